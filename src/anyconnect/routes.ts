import type { RouteTable } from '../http/route.js';
import type { AnyconnectService } from './service.js';

export function registerAnyconnectRoutes(t: RouteTable, anyconnect: AnyconnectService): void {
  void t;
  void anyconnect;
}
