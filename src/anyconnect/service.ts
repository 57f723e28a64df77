import type { Db } from '../db/client.js';
import type { PolicyService } from '../policy/service.js';

export class AnyconnectService {
  constructor(
    readonly db: Db,
    readonly policy: PolicyService,
  ) {}
}
