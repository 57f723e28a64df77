// The iOS app catalog. Apps reach devices through labels; an app can also name its per-app
// VPN explicitly (perAppVpnConfigId). In-house apps arrive as uploaded installers (.ipa), read
// for their Info.plist; the installer's bytes are not kept (its hash and size are).
import { createHash } from 'node:crypto';
import { requireRead, requireWrite, type Actor } from '../platform/auth/actor.js';
import { recordAudit } from '../audit/index.js';
import type { Db, DbTx } from '../platform/db/client.js';
import { DomainError } from '../platform/errors/index.js';
import { IpaError, readIpa } from '../lib/ipa/index.js';
import { labelStore, type LabelService } from '../labels/index.js';
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

/**
 * The catalog entry, with Core's names beside ours: appId is the bundle id, platformType and
 * platformCode Core's platform names. altVersion and provisioningProfile are not read from
 * installers, so they are null.
 */
export function appView(a: AppRow) {
  return {
    id: a.id,
    name: a.name,
    bundleId: a.bundleId,
    appId: a.bundleId,
    platform: a.platform,
    platformType: a.platform === 'iOS' ? 'IOS' : 'ANDROID',
    platformCode: a.platform === 'iOS' ? 'I' : 'A',
    source: a.source,
    version: a.version,
    displayVersion: a.displayVersion ?? a.version,
    altVersion: null,
    provisioningProfile: null,
    description: a.description,
    installerSha256: a.installerSha256,
    installerSize: a.installerSize,
    notifiedAt: a.notifiedAt?.toISOString() ?? null,
    iTunesStoreId: a.iTunesStoreId,
    perAppVpnConfigId: a.perAppVpnConfigId,
    labelIds: a.labels.map((l) => l.labelId),
    createdAt: a.createdAt.toISOString(),
    updatedAt: a.updatedAt.toISOString(),
  };
}

/** What a Core-style notification of an app does to devices; the mdm capability provides it (src/app/services.ts). */
export interface AppDelivery {
  /**
   * Of `deviceIds`, the ACTIVE ones: brings each in line with its policy now (`reconcile`:
   * queues InstallApplication where the app is missing) and sends each a push (`push`).
   */
  deliver(deviceIds: number[], what: { reconcile: boolean; push: boolean }): Promise<{ devices: number; commands: number; pushed: number }>;
}

/** Without the mdm capability (tools, unit tests): nothing reaches devices. */
const noDelivery: AppDelivery = { deliver: async () => ({ devices: 0, commands: 0, pushed: 0 }) };

/** Bounds of an uploaded installer and of what is read out of it. */
export const INHOUSE_MAX_BYTES = 100 * 1024 * 1024;
export const ICON_MAX_BYTES = 512 * 1024;
export const APP_DATA_MAX_BYTES = 64 * 1024;

/** A version string as read from an Info.plist: short, printable. */
const plistVersion = (v: string | null, key: string) => {
  if (v === null) return null;
  if (v.length > 32 || !/^[\x20-\x7e]+$/.test(v))
    throw DomainError.validation('installer', `${key} must be at most 32 printable ASCII characters`);
  return v;
};
const bundleIdRe = /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export interface AppDataInput {
  name?: string;
  description?: string | null;
}

export class AppService {
  constructor(
    private readonly db: Db,
    private readonly labels?: Pick<LabelService, 'memberIds'>,
    private readonly delivery: AppDelivery = noDelivery,
  ) {}

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

  /**
   * Adds an in-house iOS app from its installer, or a new version of one already uploaded (same
   * bundle id: same catalog entry, labels kept). An App Store entry with that bundle id conflicts.
   */
  async uploadInhouse(actor: Actor, installer: { filename: string; data: Buffer }) {
    requireWrite(actor);
    if (/\.apk$/i.test(installer.filename)) {
      throw DomainError.validation(
        'installer',
        'Android .apk installers are not read by mockiron; add Android apps with POST /appstore/apps',
      );
    }
    let info;
    try {
      info = readIpa(installer.data);
    } catch (err) {
      if (!(err instanceof IpaError)) throw err;
      if (err.reason === 'plist-too-large') throw new DomainError('request.tooLarge', `installer: ${err.message}`);
      throw DomainError.validation('installer', err.message);
    }
    if (info.bundleId.length > 155 || !bundleIdRe.test(info.bundleId)) {
      throw DomainError.validation('installer', 'CFBundleIdentifier must be a reverse-DNS identifier such as com.example.app');
    }
    const fields = {
      name: info.name.slice(0, 128),
      version: plistVersion(info.version, 'CFBundleVersion'),
      displayVersion: plistVersion(info.displayVersion, 'CFBundleShortVersionString'),
      source: 'INHOUSE',
      installerSha256: createHash('sha256').update(installer.data).digest('hex'),
      installerSize: installer.data.length,
    };
    const a = await this.db.$transaction(async (tx) => {
      const existing = await appStore.findByBundle(tx, 'iOS', info.bundleId);
      if (existing && existing.source !== 'INHOUSE') {
        throw new DomainError(
          'app.duplicate',
          `installer: the App Store app ${info.bundleId} is already in the catalog (id ${existing.id})`,
          {
            field: 'installer',
          },
        );
      }
      const saved = existing
        ? await appStore.update(tx, existing.id, fields)
        : await appStore.create(tx, { ...fields, bundleId: info.bundleId, platform: 'iOS' });
      await recordAudit(tx, {
        actor: actor.username,
        action: existing ? 'inhouse.update' : 'inhouse.create',
        objectType: 'app',
        objectId: saved.id,
        details: {
          bundleId: info.bundleId,
          version: fields.version,
          displayVersion: fields.displayVersion,
          sha256: fields.installerSha256,
        },
      });
      return saved;
    });
    return appView(a);
  }

  /** Core's app data update: the fields mockiron keeps (name, description) and an optional PNG icon. */
  async updateAppData(actor: Actor, id: number, data: AppDataInput, icon?: Buffer) {
    requireWrite(actor);
    if (icon && (icon.length < PNG_SIGNATURE.length || !icon.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE))) {
      throw DomainError.validation('icon', 'must be a PNG image');
    }
    const a = await this.db.$transaction(async (tx) => {
      if (!(await appStore.findById(tx, id))) throw DomainError.notFound('App', id);
      const updated = await appStore.update(tx, id, { ...data, ...(icon ? { icon: new Uint8Array(icon) } : {}) });
      await recordAudit(tx, {
        actor: actor.username,
        action: 'update',
        objectType: 'app',
        objectId: id,
        details: { ...data, ...(icon ? { iconBytes: icon.length } : {}) },
      });
      return updated;
    });
    return appView(a);
  }

  /**
   * Core's "send a notification to devices" for an app: the ACTIVE devices in the app's labels
   * get what their policy says of it now (installIncluded/updateIncluded: reconciled, which
   * queues InstallApplication where the app is missing) and a push (pushApp).
   */
  async notify(actor: Actor, id: number, what: { installIncluded: boolean; updateIncluded: boolean; pushApp: boolean }) {
    requireWrite(actor);
    const app = await appStore.findById(this.db, id);
    if (!app) throw DomainError.notFound('App', id);
    // Filter labels are evaluated over the device directory, outside any transaction.
    const ids = new Set<number>();
    for (const { labelId } of app.labels) {
      const label = await labelStore.findById(this.db, labelId);
      if (label && this.labels) for (const d of await this.labels.memberIds(this.db, label)) ids.add(d);
    }
    const deviceIds = [...ids];
    await this.db.$transaction(async (tx) => {
      await appStore.update(tx, id, { notifiedAt: new Date() });
      await recordAudit(tx, {
        actor: actor.username,
        action: 'notify',
        objectType: 'app',
        objectId: id,
        details: { ...what, devices: deviceIds.length },
      });
    });
    const outcome = await this.delivery.deliver(deviceIds, {
      reconcile: what.installIncluded || what.updateIncluded,
      push: what.pushApp,
    });
    return { appId: app.id, bundleId: app.bundleId, labelIds: app.labels.map((l) => l.labelId), ...outcome };
  }
}

async function assertVpnExists(tx: DbTx, id: number | null | undefined) {
  if (id == null) return;
  if (!(await vpnStore.findById(tx, id))) throw DomainError.validation('perAppVpnConfigId', `no VPN configuration with id ${id}`);
}
