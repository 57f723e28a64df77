// What other capabilities may use of the cert-enrollments capability (the only module they import).
export {
  CertificateEnrollmentService,
  certificateEnrollmentExists,
  enrollmentSpec,
  type EnrollmentInput,
  type EnrollmentSpec,
} from './service.js';
export {
  DeviceIdentityService,
  type IdentityCertificateRecord,
  type IdentityCertificateStatus,
  type IdentityPayload,
  type IssuedIdentity,
} from './identities.js';
export { registerCertificateEnrollmentRoutes } from './routes.js';
