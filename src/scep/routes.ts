import type { RouteTable } from '../http/route.js';
import type { ScepService } from './service.js';

export function registerScepRoutes(t: RouteTable, scep: ScepService): void {
  void t;
  void scep;
}
