// Builds every capability's service from its dependencies. Tests and the CLI use this too.
import { AdminService } from './admins/service.js';
import { AuditService } from './audit/service.js';
import type { Db } from './db/client.js';
import type { Logger } from './logger.js';
import { UserService } from './users/service.js';

export interface ServiceDeps {
  db: Db;
  logger: Logger;
  dataDir: string;
  publicUrl: string;
}

export function buildServices(deps: ServiceDeps) {
  const { db } = deps;
  return {
    db,
    admins: new AdminService(db),
    users: new UserService(db),
    audit: new AuditService(db),
    init: undefined as undefined | (() => Promise<void>),
  };
}

export type Services = ReturnType<typeof buildServices>;
