// Every capability's routes, in one list the app registers.
import type { Services } from '../services.js';
import type { RouteTable } from './route.js';
import { registerAdminRoutes } from '../admins/routes.js';
import { registerAuditRoutes } from '../audit/routes.js';
import { registerUserRoutes } from '../users/routes.js';

export const apiRouteModules: Array<(t: RouteTable, s: Services) => void> = [
  (t, s) => registerAdminRoutes(t, s.admins),
  (t, s) => registerUserRoutes(t, s.users),
  (t, s) => registerAuditRoutes(t, s.audit),
];
