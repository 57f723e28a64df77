// Every capability's routes, in one list the app registers.
import type { Services } from './services.js';
import type { RouteTable } from '../platform/http/route.js';
import { registerAdminRoutes } from '../admins/routes.js';
import { registerAuditRoutes } from '../audit/routes.js';
import { registerAnyconnectRoutes } from '../anyconnect/routes.js';
import { registerAppRoutes } from '../apps/routes.js';
import { registerScepAdminRoutes, registerScepRoutes } from '../scep/routes.js';
import { registerCertificateRoutes, registerCrlRoute } from '../certificates/routes.js';
import { registerEnrollmentRoutes, registerEnrollmentV1Routes, registerOtaRoutes } from '../enrollment/routes.js';
import { registerMdmAdminRoutes, registerMdmDeviceRoutes } from '../mdm/routes.js';
import { registerPushCertificateRoutes } from '../mdm/push-certificate-routes.js';
import { registerPolicyRoutes } from '../policy/routes.js';
import { registerProfileRoutes } from '../profiles/routes.js';
import { registerSigningRoutes } from '../signing/routes.js';
import { registerVpnRoutes } from '../vpn/routes.js';
import { registerCertificateEnrollmentRoutes } from '../cert-enrollments/index.js';
import { registerDeviceRoutes } from '../devices/routes.js';
import { registerInventoryRoutes } from '../inventory/routes.js';
import { registerLabelRoutes } from '../labels/routes.js';
import { registerDeviceSpaceRoutes } from '../device-spaces/routes.js';
import { registerLdapRoutes, registerUserRoutes } from '../users/routes.js';
import { registerCoreV1Routes } from '../core-v1/routes.js';

export const apiRouteModules: Array<(t: RouteTable, s: Services) => void> = [
  (t, s) => registerLdapRoutes(t, s.users),
  (t, s) => registerAdminRoutes(t, s.admins),
  (t, s) => registerUserRoutes(t, s.users),
  // Before the devices' routes: /devices/appinventory must never reach a /devices/:uuid route.
  (t, s) => registerInventoryRoutes(t, s.inventory),
  (t, s) => registerDeviceRoutes(t, s.devices, s.deviceImports),
  (t, s) => registerLabelRoutes(t, s.labels),
  (t, s) => registerDeviceSpaceRoutes(t, s.deviceSpaces),
  (t, s) => registerVpnRoutes(t, s.vpn),
  (t, s) => registerCertificateEnrollmentRoutes(t, s.certificateEnrollments, s.identities),
  (t, s) => registerAppRoutes(t, s.apps),
  (t, s) => registerPolicyRoutes(t, s.policy),
  (t, s) => registerProfileRoutes(t, s.profiles),
  (t, s) => registerSigningRoutes(t, s.signing, s.profiles),
  (t, s) => registerEnrollmentRoutes(t, s.enrollment),
  // CRL, challenges, certificates: the order the OpenAPI document has always listed them in
  (t, s) => registerCrlRoute(t, s.certificates),
  (t, s) => registerScepAdminRoutes(t, s.scep),
  (t, s) => registerCertificateRoutes(t, s.certificates),
  (t, s) => registerMdmAdminRoutes(t, s.mdm),
  (t, s) => registerPushCertificateRoutes(t, s.pushCertificates),
  (t, s) => registerAnyconnectRoutes(t, s.anyconnect),
  (t, s) => registerAuditRoutes(t, s.audit),
];

/** Device-facing protocol endpoints, mounted at the root (not under /api/v2). */
export const deviceRouteModules: Array<(t: RouteTable, s: Services) => void> = [
  (t, s) => registerScepRoutes(t, s.scep),
  (t, s) => registerOtaRoutes(t, s.enrollment),
  (t, s) => registerMdmDeviceRoutes(t, s.mdm),
];

/** MobileIron Core v1 endpoints that Core scripts still call, under /api/v1. */
export const v1RouteModules: Array<(t: RouteTable, s: Services) => void> = [
  (t, s) => registerEnrollmentV1Routes(t, s.enrollment),
  (t, s) => registerCoreV1Routes(t, s.coreV1),
];
