// The iOS app catalog. Apps reach devices through labels; an app can also name its per-app
// VPN explicitly (perAppVpnConfigId).
import { requireRead, requireWrite, type Actor } from '../platform/auth/actor.js';
import { recordAudit } from '../audit/index.js';
import type { Db, DbTx } from '../platform/db/client.js';
import { DomainError } from '../platform/errors/index.js';
import { labelStore } from '../labels/index.js';
import { vpnStore } from '../vpn/index.js';
import { appStore } from './store.js';

export interface AppInput {
  name: string;
  bundleId: string;
  platform: 'iOS' | 'Android';
  version?: string | null;
  iTunesStoreId?: string | null;
  perAppVpnConfigId?: number | null;
}

type AppRow = NonNullable<Awaited<ReturnType<typeof appStore.findById>>>;

export function appView(a: AppRow) {
  return {
    id: a.id,
    name: a.name,
    bundleId: a.bundleId,
    platform: a.platform,
    version: a.version,
    iTunesStoreId: a.iTunesStoreId,
    perAppVpnConfigId: a.perAppVpnConfigId,
    labelIds: a.labels.map((l) => l.labelId),
    createdAt: a.createdAt.toISOString(),
    updatedAt: a.updatedAt.toISOString(),
  };
}

export class AppService {
  constructor(private readonly db: Db) {}

  async list(
    actor: Actor,
    filter: { platform?: string; labelId?: number },
    page: { limit: number; offset: number },
    sortField: string,
    order: 'asc' | 'desc',
  ) {
    requireRead(actor);
    const where = {
      ...(filter.platform ? { platform: filter.platform } : {}),
      ...(filter.labelId ? { labels: { some: { labelId: filter.labelId } } } : {}),
    };
    const [rows, total] = await Promise.all([appStore.list(this.db, where, page, { [sortField]: order }), appStore.count(this.db, where)]);
    return { total, results: rows.map(appView) };
  }

  async get(actor: Actor, id: number) {
    requireRead(actor);
    const a = await appStore.findById(this.db, id);
    if (!a) throw DomainError.notFound('App', id);
    return appView(a);
  }

  async create(actor: Actor, input: AppInput) {
    requireWrite(actor);
    const a = await this.db.$transaction(async (tx) => {
      await assertVpnExists(tx, input.perAppVpnConfigId);
      if (await appStore.findByBundle(tx, input.platform, input.bundleId)) {
        throw new DomainError('app.duplicate', `bundleId: ${input.platform} app ${input.bundleId} is already in the catalog`, {
          field: 'bundleId',
        });
      }
      const created = await appStore.create(tx, { ...input });
      await recordAudit(tx, { actor: actor.username, action: 'create', objectType: 'app', objectId: created.id, details: { ...input } });
      return created;
    });
    return appView(a);
  }

  async update(actor: Actor, id: number, input: Partial<AppInput>) {
    requireWrite(actor);
    const a = await this.db.$transaction(async (tx) => {
      const existing = await appStore.findById(tx, id);
      if (!existing) throw DomainError.notFound('App', id);
      await assertVpnExists(tx, input.perAppVpnConfigId);
      const platform = input.platform ?? existing.platform;
      const bundle = input.bundleId ?? existing.bundleId;
      const clash = await appStore.findByBundle(tx, platform, bundle);
      if (clash && clash.id !== id) {
        throw new DomainError('app.duplicate', `bundleId: ${platform} app ${bundle} is already in the catalog`, { field: 'bundleId' });
      }
      const updated = await appStore.update(tx, id, { ...input });
      await recordAudit(tx, { actor: actor.username, action: 'update', objectType: 'app', objectId: id, details: { ...input } });
      return updated;
    });
    return appView(a);
  }

  async remove(actor: Actor, id: number) {
    requireWrite(actor);
    await this.db.$transaction(async (tx) => {
      const existing = await appStore.findById(tx, id);
      if (!existing) throw DomainError.notFound('App', id);
      await appStore.remove(tx, id); // label assignments cascade
      await recordAudit(tx, {
        actor: actor.username,
        action: 'delete',
        objectType: 'app',
        objectId: id,
        details: { name: existing.name, bundleId: existing.bundleId },
      });
    });
  }

  async setLabel(actor: Actor, id: number, labelId: number, applied: boolean) {
    requireWrite(actor);
    await this.db.$transaction(async (tx) => {
      if (!(await appStore.findById(tx, id))) throw DomainError.notFound('App', id);
      if (!(await labelStore.findById(tx, labelId))) throw DomainError.notFound('Label', labelId);
      if (applied) await appStore.addLabel(tx, id, labelId);
      else await appStore.removeLabel(tx, id, labelId);
      await recordAudit(tx, {
        actor: actor.username,
        action: applied ? 'label.add' : 'label.remove',
        objectType: 'app',
        objectId: id,
        details: { labelId },
      });
    });
    return this.get(actor, id);
  }
}

async function assertVpnExists(tx: DbTx, id: number | null | undefined) {
  if (id == null) return;
  if (!(await vpnStore.findById(tx, id))) throw DomainError.validation('perAppVpnConfigId', `no VPN configuration with id ${id}`);
}
