// VPN configurations (a mockiron extension in Core's style). The password is write-only, and
// vpnUuid is minted once at creation and never changes: apps on devices are bound to it.
import { randomUUID } from 'node:crypto';
import { requireRead, requireWrite, type Actor } from '../platform/auth/actor.js';
import { recordAudit } from '../audit/index.js';
import type { Db, DbTx } from '../platform/db/client.js';
import { SEALED_PREFIX, type SecretBox } from '../platform/secrets/box.js';
import { DomainError } from '../platform/errors/index.js';
import { labelStore } from '../labels/index.js';
import { certificateEnrollmentExists } from '../cert-enrollments/index.js';
import type { VpnUserAuthentication } from '../lib/profiles/vpn-payload.js';
import { vpnStore } from './store.js';

async function assertEnrollmentExists(tx: DbTx, id: number | null | undefined) {
  if (id !== undefined && id !== null && !(await certificateEnrollmentExists(tx, id))) {
    throw DomainError.validation('certificateEnrollmentId', `certificate enrollment setting ${id} does not exist`);
  }
}

export const connectionTypes = ['ANYCONNECT', 'ANYCONNECT_LEGACY', 'IKEV2', 'IPSEC', 'L2TP', 'CUSTOM_SSL'] as const;
export type ConnectionType = (typeof connectionTypes)[number];

const listKeys = [
  'safariDomains',
  'associatedDomains',
  'excludedDomains',
  'smbDomains',
  'mailDomains',
  'calendarDomains',
  'contactsDomains',
] as const;

export interface VpnInput {
  name: string;
  description?: string;
  connectionType: ConnectionType;
  providerBundleId?: string | null;
  server: string;
  group?: string | null;
  perApp?: boolean;
  onDemandMatchAppEnabled?: boolean;
  safariDomains?: string[];
  associatedDomains?: string[];
  excludedDomains?: string[];
  smbDomains?: string[];
  mailDomains?: string[];
  calendarDomains?: string[];
  contactsDomains?: string[];
  userAuthentication?: VpnUserAuthentication;
  certificateEnrollmentId?: number | null;
  username?: string | null;
  password?: string | null;
  providerType?: 'packet-tunnel' | 'app-proxy' | null;
  customData?: Record<string, string>;
}

export type VpnRow = NonNullable<Awaited<ReturnType<typeof vpnStore.findById>>>;

/** Where a VPN password is sealed (the associated data of its encryption). */
export const VPN_PASSWORD_CONTEXT = 'VpnConfiguration.password';

/**
 * The stored row as the profile builders want it (lists and maps parsed). With the secret box,
 * the password is decrypted; without, it is left sealed (enough to tell whether one is set).
 */
export function vpnSpec(row: VpnRow, secrets?: SecretBox) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    connectionType: row.connectionType as ConnectionType,
    providerBundleId: row.providerBundleId,
    server: row.server,
    group: row.group,
    perApp: row.perApp,
    onDemandMatchAppEnabled: row.onDemandMatchAppEnabled,
    safariDomains: JSON.parse(row.safariDomains) as string[],
    associatedDomains: JSON.parse(row.associatedDomains) as string[],
    excludedDomains: JSON.parse(row.excludedDomains) as string[],
    smbDomains: JSON.parse(row.smbDomains) as string[],
    mailDomains: JSON.parse(row.mailDomains) as string[],
    calendarDomains: JSON.parse(row.calendarDomains) as string[],
    contactsDomains: JSON.parse(row.contactsDomains) as string[],
    userAuthentication: row.userAuthentication as VpnUserAuthentication,
    certificateEnrollmentId: row.certificateEnrollmentId,
    username: row.username,
    password: row.password !== null && secrets ? secrets.open(row.password, VPN_PASSWORD_CONTEXT) : row.password,
    providerType: row.providerType as 'packet-tunnel' | 'app-proxy' | null,
    customData: JSON.parse(row.customData) as Record<string, string>,
    vpnUuid: row.vpnUuid,
  };
}

/** What the API returns: everything but the password, plus whether one is set. */
export function vpnView(row: VpnRow & { labels?: { labelId: number }[] }) {
  const { password, ...rest } = vpnSpec(row);
  return {
    ...rest,
    passwordSet: Boolean(password),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    ...(row.labels ? { labelIds: row.labels.map((l) => l.labelId) } : {}),
  };
}

function checkRules(v: Required<Pick<VpnInput, 'connectionType'>> & VpnInput) {
  if (v.connectionType === 'CUSTOM_SSL' && !v.providerBundleId) {
    throw DomainError.validation('providerBundleId', "CUSTOM_SSL connections need the VPN app's provider bundle id");
  }
  if (v.connectionType !== 'CUSTOM_SSL' && v.providerBundleId) {
    throw DomainError.validation('providerBundleId', 'only CUSTOM_SSL connections take a provider bundle id');
  }
  if (v.userAuthentication === 'CERTIFICATE' && v.password) {
    throw DomainError.validation('password', 'certificate authentication does not use a password');
  }
  const certificate = v.userAuthentication === 'CERTIFICATE' || v.userAuthentication === 'PASSWORD_AND_CERTIFICATE';
  if (certificate && (v.certificateEnrollmentId === undefined || v.certificateEnrollmentId === null)) {
    throw DomainError.validation(
      'certificateEnrollmentId',
      `${v.userAuthentication} needs the certificate enrollment setting to authenticate with`,
    );
  }
  if (!certificate && v.certificateEnrollmentId !== undefined && v.certificateEnrollmentId !== null) {
    throw DomainError.validation('certificateEnrollmentId', 'password authentication takes no certificate enrollment setting');
  }
  if (v.providerType && !['ANYCONNECT', 'ANYCONNECT_LEGACY', 'CUSTOM_SSL'].includes(v.connectionType)) {
    throw DomainError.validation('providerType', 'providerType applies to VPN-plugin connections (AnyConnect, custom SSL) only');
  }
}

function toColumns(input: Partial<VpnInput>, secrets: SecretBox) {
  const data: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) {
    if (v === undefined) continue;
    if ((listKeys as readonly string[]).includes(k)) data[k] = JSON.stringify([...new Set(v as string[])]);
    else if (k === 'customData') data[k] = JSON.stringify(v);
    else if (k === 'password' && typeof v === 'string') data[k] = secrets.seal(v, VPN_PASSWORD_CONTEXT);
    else data[k] = v;
  }
  if (input.name) data.nameKey = input.name.toLowerCase();
  return data;
}

export class VpnService {
  constructor(
    private readonly db: Db,
    private readonly secrets: SecretBox,
  ) {}

  /** Seals passwords stored before encryption at rest existed (once, at start). */
  async sealLegacyPasswords(): Promise<number> {
    return this.db.$transaction(async (tx) => {
      const rows = await vpnStore.clearPasswords(tx, SEALED_PREFIX);
      for (const r of rows) await vpnStore.setPassword(tx, r.id, this.secrets.seal(r.password, VPN_PASSWORD_CONTEXT));
      return rows.length;
    });
  }

  async list(actor: Actor, page: { limit: number; offset: number }, sortField: string, order: 'asc' | 'desc') {
    requireRead(actor);
    const [rows, total] = await Promise.all([vpnStore.list(this.db, page, { [sortField]: order }), vpnStore.count(this.db)]);
    return { total, results: rows.map(vpnView) };
  }

  async get(actor: Actor, id: number) {
    requireRead(actor);
    const row = await vpnStore.withLabels(this.db, id);
    if (!row) throw DomainError.notFound('VPN configuration', id);
    return vpnView(row);
  }

  async create(actor: Actor, input: VpnInput) {
    requireWrite(actor);
    checkRules(input);
    const row = await this.db.$transaction(async (tx) => {
      await assertNameFree(tx, input.name);
      await assertEnrollmentExists(tx, input.certificateEnrollmentId);
      const created = await vpnStore.create(tx, { ...(toColumns(input, this.secrets) as any), vpnUuid: randomUUID().toUpperCase() });
      await recordAudit(tx, {
        actor: actor.username,
        action: 'create',
        objectType: 'vpnConfiguration',
        objectId: created.id,
        details: { ...input },
      });
      return created;
    });
    return vpnView({ ...row, labels: [] });
  }

  async update(actor: Actor, id: number, input: Partial<VpnInput>) {
    requireWrite(actor);
    const row = await this.db.$transaction(async (tx) => {
      const existing = await vpnStore.findById(tx, id);
      if (!existing) throw DomainError.notFound('VPN configuration', id);
      const merged = { ...vpnSpec(existing), ...input };
      // Switching to certificate auth drops a stored password.
      if (input.userAuthentication === 'CERTIFICATE' && input.password === undefined) merged.password = null;
      // Switching to password auth drops the certificate enrollment setting
      if (input.userAuthentication === 'PASSWORD' && input.certificateEnrollmentId === undefined) merged.certificateEnrollmentId = null;
      checkRules(merged);
      await assertEnrollmentExists(tx, input.certificateEnrollmentId);
      if (input.name && input.name.toLowerCase() !== existing.nameKey) await assertNameFree(tx, input.name);
      const data = toColumns(input, this.secrets);
      if (merged.password === null) data.password = null;
      if (merged.certificateEnrollmentId === null) data.certificateEnrollmentId = null;
      const updated = await vpnStore.update(tx, id, data as any);
      await recordAudit(tx, {
        actor: actor.username,
        action: 'update',
        objectType: 'vpnConfiguration',
        objectId: id,
        details: { ...input },
      });
      return updated;
    });
    return vpnView((await vpnStore.withLabels(this.db, row.id))!);
  }

  async remove(actor: Actor, id: number) {
    requireWrite(actor);
    await this.db.$transaction(async (tx) => {
      const existing = await vpnStore.findById(tx, id);
      if (!existing) throw DomainError.notFound('VPN configuration', id);
      const apps = await vpnStore.appsReferencing(tx, id);
      if (apps.length) {
        throw new DomainError(
          'vpn.inUse',
          `VPN configuration ${existing.name} is the explicit per-app VPN of app(s) ${apps.map((a) => `${a.name} (id ${a.id})`).join(', ')}; change their perAppVpnConfigId first`,
        );
      }
      await vpnStore.remove(tx, id); // label assignments cascade
      await recordAudit(tx, {
        actor: actor.username,
        action: 'delete',
        objectType: 'vpnConfiguration',
        objectId: id,
        details: { name: existing.name },
      });
    });
  }

  async setLabel(actor: Actor, id: number, labelId: number, applied: boolean) {
    requireWrite(actor);
    await this.db.$transaction(async (tx) => {
      if (!(await vpnStore.findById(tx, id))) throw DomainError.notFound('VPN configuration', id);
      if (!(await labelStore.findById(tx, labelId))) throw DomainError.notFound('Label', labelId);
      if (applied) await vpnStore.addLabel(tx, id, labelId);
      else await vpnStore.removeLabel(tx, id, labelId);
      await recordAudit(tx, {
        actor: actor.username,
        action: applied ? 'label.add' : 'label.remove',
        objectType: 'vpnConfiguration',
        objectId: id,
        details: { labelId },
      });
    });
    return this.get(actor, id);
  }
}

async function assertNameFree(tx: DbTx, name: string) {
  const existing = await vpnStore.findByName(tx, name);
  if (existing) throw new DomainError('vpn.duplicate', `A VPN configuration named ${existing.name} already exists`);
}
