import type { Db } from '../db/client.js';
import type { Logger } from '../logger.js';
import type { SigningService } from '../signing/service.js';

export class ScepService {
  constructor(
    readonly db: Db,
    readonly signing: SigningService,
    readonly publicUrl: string,
    readonly logger: Logger,
  ) {}
}
