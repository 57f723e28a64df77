// In-memory implementations of the MDM ports (src/mdm/ports.ts), for fast unit tests of the
// parts without SQLite; they follow the Prisma implementations' semantics. `mdmOnMemory` builds
// the whole MDM service on them, with a real CA, real signatures and a real SecretBox.
import { randomBytes } from 'node:crypto';
import type { DeviceRow } from '../../../src/devices/fields.js';
import { pendingCommandStatuses } from '../../../src/lib/mdm-reconcile/index.js';
import { signMdmRequest } from '../../../src/lib/mdm-protocol/index.js';
import { toXmlPlist, type PlistDict } from '../../../src/lib/plist/index.js';
import { ChangeCounter } from '../../../src/platform/db/changes.js';
import type { Db, DbTx } from '../../../src/platform/db/client.js';
import { createLogger } from '../../../src/platform/logger.js';
import { SecretBox } from '../../../src/platform/secrets/box.js';
import type { AuditEntry } from '../../../src/audit/store.js';
import type {
  AuditTrail,
  CommandRecords,
  CommandRow,
  DeviceCertificates,
  DeviceRecords,
  IdentityCheck,
  NewCommand,
  PushRecords,
  PushRow,
  ReportedFacts,
} from '../../../src/mdm/ports.js';
import type { PushProvider, PushTarget } from '../../../src/mdm/push.js';
import { MdmService } from '../../../src/mdm/service.js';
import type { ResolvedPolicy } from '../../../src/policy/service.js';
import { CertificateAuthority } from '../../../src/signing/identity.js';

/** Prisma skips undefined fields of an update; so does this. */
function assign<T extends object>(row: T, data: Partial<T>): void {
  for (const [k, v] of Object.entries(data)) if (v !== undefined) (row as Record<string, unknown>)[k] = v;
}

/** Only the facts a device sent (as the devices store does). */
function reported(f: ReportedFacts): ReportedFacts {
  return Object.fromEntries(Object.entries(f).filter(([, v]) => Boolean(v))) as ReportedFacts;
}

export class MemoryDevices implements DeviceRecords {
  readonly rows = new Map<number, DeviceRow>();
  private nextId = 1;

  add(fields: Partial<DeviceRow> = {}): DeviceRow {
    const id = this.nextId++;
    const now = new Date();
    const row: DeviceRow = {
      id,
      uuid: `00000000-0000-4000-8000-${String(id).padStart(12, '0')}`,
      adminDeviceSpaceId: 1,
      platform: 'iOS',
      osVersion: null,
      model: null,
      manufacturer: 'Apple',
      deviceName: null,
      serialNumber: null,
      udid: null,
      imei: null,
      owner: 'COMPANY',
      status: 'VERIFICATION_PENDING',
      compliant: true,
      quarantined: false,
      customAttributes: '{}',
      userRef: null,
      registeredAt: now,
      lastConnectedAt: null,
      updatedAt: now,
      enrolledAt: null,
      topic: null,
      pushToken: null,
      pushMagic: null,
      unlockToken: null,
      mdmState: '{}',
      wifiMac: null,
      ipAddress: null,
      phoneNumber: null,
      osVersionKey: null,
      reportedInfo: '{}',
      user: null,
      ...fields,
    };
    this.rows.set(id, row);
    return { ...row };
  }

  get(id: number): DeviceRow {
    return { ...this.rows.get(id)! };
  }

  private update(id: number, data: Partial<DeviceRow>) {
    const row = this.rows.get(id);
    if (!row) throw new Error(`no device ${id}`);
    assign(row, { ...data, updatedAt: new Date() });
    return Promise.resolve({ ...row });
  }

  private find(pred: (d: DeviceRow) => boolean) {
    const row = [...this.rows.values()].find(pred);
    return Promise.resolve(row ? { ...row } : null);
  }

  identityById = async (_tx: DbTx, id: number) => {
    const row = this.rows.get(id);
    return row ? { id: row.id, uuid: row.uuid, udid: row.udid } : null;
  };
  findById = (_tx: DbTx, id: number) => this.find((d) => d.id === id);
  findByUuid = (_tx: DbTx, uuid: string) => this.find((d) => d.uuid === uuid);
  findByUdid = (_tx: DbTx, udid: string) => this.find((d) => d.udid === udid);
  createEnrolling = async (_tx: DbTx, device: { uuid: string; udid: string }) => this.add(device);
  assignUdid = async (_tx: DbTx, id: number, udid: string, releasedBy: number | null) => {
    if (releasedBy !== null) await this.update(releasedBy, { udid: null });
    return this.update(id, { udid });
  };
  recordAuthenticate = (_tx: DbTx, id: number, facts: ReportedFacts & { topic: string }, at: Date) =>
    this.update(id, {
      ...reported(facts),
      topic: facts.topic,
      pushToken: null,
      pushMagic: null,
      unlockToken: null,
      mdmState: '{}',
      lastConnectedAt: at,
    });
  recordTokenUpdate = (
    _tx: DbTx,
    id: number,
    data: { pushToken: string; pushMagic: string; topic: string; unlockToken?: string; enrolledAt: Date },
    at: Date,
  ) => this.update(id, { ...data, status: 'ACTIVE', lastConnectedAt: at });
  recordSeen = (_tx: DbTx, id: number, at: Date) => this.update(id, { lastConnectedAt: at });
  recordInformation = (_tx: DbTx, id: number, facts: ReportedFacts) => this.update(id, reported(facts));
  setMdmState = (_tx: DbTx, id: number, mdmState: string) => this.update(id, { mdmState });
  markRetired = (_tx: DbTx, id: number) => this.update(id, { status: 'RETIRED', pushToken: null, pushMagic: null, mdmState: '{}' });
  markWiped = (_tx: DbTx, id: number) => this.update(id, { status: 'WIPED', pushToken: null, pushMagic: null, mdmState: '{}' });
  activePushTargets = async (_tx: DbTx, ids?: number[]): Promise<PushTarget[]> =>
    [...this.rows.values()]
      .filter((d) => d.status === 'ACTIVE' && (!ids || ids.includes(d.id)))
      .map((d) => ({ id: d.id, pushToken: d.pushToken, pushMagic: d.pushMagic, topic: d.topic }));
  unsealedUnlockTokens = async (_tx: DbTx, sealedPrefix: string) =>
    [...this.rows.values()]
      .filter((d) => d.unlockToken !== null && !d.unlockToken.startsWith(sealedPrefix))
      .map((d) => ({ id: d.id, unlockToken: d.unlockToken! }));
  setUnlockToken = (_tx: DbTx, id: number, sealed: string) => this.update(id, { unlockToken: sealed });
}

export class MemoryCommands implements CommandRecords {
  readonly rows: CommandRow[] = [];
  private nextId = 1;

  private of(deviceRef: number, pred: (c: CommandRow) => boolean = () => true) {
    return this.rows.filter((c) => c.deviceRef === deviceRef && pred(c));
  }

  create = async (_tx: DbTx, data: NewCommand) => {
    const row: CommandRow = {
      id: this.nextId++,
      ...data,
      status: 'Queued',
      result: null,
      errorChain: null,
      queuedAt: new Date(),
      sentAt: null,
      completedAt: null,
      attempts: 0,
    };
    this.rows.push(row);
    return { ...row };
  };
  findByUuid = async (_tx: DbTx, deviceRef: number, commandUuid: string) => {
    const row = this.of(deviceRef, (c) => c.commandUuid === commandUuid)[0];
    return row ? { ...row } : null;
  };
  withPurpose = async (_tx: DbTx, deviceRef: number) =>
    this.of(deviceRef, (c) => c.purpose !== null).map((c) => ({ commandUuid: c.commandUuid, purpose: c.purpose, status: c.status }));
  cancel = async (_tx: DbTx, deviceRef: number, commandUuids: string[]) => {
    for (const c of this.of(deviceRef, (c) => commandUuids.includes(c.commandUuid) && pendingCommandStatuses.includes(c.status)))
      assign(c, { status: 'Canceled', completedAt: new Date() });
  };
  cancelAllPending = async (_tx: DbTx, deviceRef: number) => {
    for (const c of this.of(deviceRef, (c) => pendingCommandStatuses.includes(c.status)))
      assign(c, { status: 'Canceled', completedAt: new Date() });
  };
  requeue = async (_tx: DbTx, deviceRef: number) => {
    for (const c of this.of(deviceRef, (c) => c.status === 'Sent' || c.status === 'NotNow')) c.status = 'Queued';
  };
  nextQueued = async (_tx: DbTx, deviceRef: number) => {
    const row = this.of(deviceRef, (c) => c.status === 'Queued')[0];
    return row ? { ...row } : null;
  };
  markSent = async (_tx: DbTx, id: number) => {
    const c = this.rows.find((r) => r.id === id)!;
    assign(c, { status: 'Sent', sentAt: new Date(), attempts: c.attempts + 1 });
  };
  complete = async (_tx: DbTx, id: number, data: { status: string; result: string; errorChain: string | null }) => {
    const c = this.rows.find((r) => r.id === id)!;
    Object.assign(c, data, { completedAt: data.status === 'NotNow' ? null : new Date() });
  };
  list = async (_tx: DbTx, deviceRef: number, page: { limit: number; offset: number }, status?: string) =>
    this.of(deviceRef, (c) => !status || c.status === status)
      .slice(page.offset, page.offset + page.limit)
      .map((c) => ({ ...c }));
  count = async (_tx: DbTx, deviceRef: number, status?: string) => this.of(deviceRef, (c) => !status || c.status === status).length;
  devicesWithPending = async () => [...new Set(this.rows.filter((c) => pendingCommandStatuses.includes(c.status)).map((c) => c.deviceRef))];
}

/** Push records, written by the push provider below and read by the admin views. */
export class MemoryPushes implements PushRecords, PushProvider {
  readonly name = 'memory';
  readonly rows: Array<PushRow & { deviceRef: number }> = [];

  async push(device: PushTarget, reason: string) {
    const outcome = device.pushToken && device.pushMagic ? ('recorded' as const) : ('no-token' as const);
    await this.record(null as never, { deviceRef: device.id, reason, provider: this.name, outcome });
    return { outcome };
  }
  record = async (_tx: DbTx, push: { deviceRef: number; reason: string; provider: string; outcome: string }) =>
    void this.rows.push({ ...push, at: new Date() });
  latest = async (_tx: DbTx, deviceRef: number) => this.rows.filter((p) => p.deviceRef === deviceRef).at(-1) ?? null;
  count = async (_tx: DbTx, deviceRef: number) => this.rows.filter((p) => p.deviceRef === deviceRef).length;
  list = async (_tx: DbTx, deviceRef: number, page: { limit: number; offset: number }) =>
    this.rows
      .filter((p) => p.deviceRef === deviceRef)
      .reverse()
      .slice(page.offset, page.offset + page.limit);
}

interface MemoryCertificate {
  deviceRef: number | null;
  revoked: boolean;
  notAfter: Date;
  serialNumber: string;
  revokedReason?: string;
}

export class MemoryCertificates implements DeviceCertificates, IdentityCheck {
  certificateGeneration = 0;
  readonly byFingerprint = new Map<string, MemoryCertificate>();

  add(fingerprint: string, cert: Omit<MemoryCertificate, 'revoked'> & { revoked?: boolean }): void {
    this.byFingerprint.set(fingerprint, { revoked: false, ...cert });
  }

  deviceForCertificate = async (fingerprint: string) => {
    const c = this.byFingerprint.get(fingerprint);
    return c ? { deviceRef: c.deviceRef, revoked: c.revoked, notAfter: c.notAfter } : null;
  };
  bindCertificate = async (fingerprint: string, deviceRef: number) => {
    const c = this.byFingerprint.get(fingerprint);
    if (!c || c.deviceRef !== null) return false;
    c.deviceRef = deviceRef;
    this.certificateGeneration++;
    return true;
  };
  revokeDeviceCertificates = async (_tx: DbTx, deviceRef: number, reason: string) => {
    const active = [...this.byFingerprint.values()].filter((c) => c.deviceRef === deviceRef && !c.revoked);
    for (const c of active) Object.assign(c, { revoked: true, revokedReason: reason });
    if (active.length) this.certificateGeneration++;
    return { revoked: active.map((c) => c.serialNumber) };
  };
  hasUsableIdentity = async (_tx: DbTx, deviceRef: number) =>
    [...this.byFingerprint.values()].some((c) => c.deviceRef === deviceRef && !c.revoked && c.notAfter > new Date());
}

export class MemoryAudit implements AuditTrail {
  readonly entries: AuditEntry[] = [];
  record = async (_tx: DbTx, entry: AuditEntry) => void this.entries.push(entry);
}

/** A "client" whose transactions run their callback on itself: the memory stores ignore it (and the group commit's savepoints). */
function memoryDb(): Db {
  const db = { $transaction: (fn: (tx: unknown) => Promise<unknown>) => fn(db), $executeRawUnsafe: async () => 0 };
  return db as unknown as Db;
}

/** A device identity issued by the test CA: it signs request bodies the way a device does. */
export interface TestIdentity {
  fingerprint: string;
  sign(body: Buffer): Record<string, string>;
}

// EC keys: generated in a millisecond, where RSA takes a good part of a second
let testCa: CertificateAuthority | undefined;

/** The MDM service on memory stores, with one app every device is assigned (so reconciliation has work). */
export function mdmOnMemory(options: { apps?: ResolvedPolicy['apps'] } = {}) {
  const ca = (testCa ??= CertificateAuthority.create({ subject: { commonName: 'mockiron test CA' }, keyType: 'ec' }));
  const devices = new MemoryDevices();
  const commands = new MemoryCommands();
  const pushes = new MemoryPushes();
  const certificates = new MemoryCertificates();
  const audit = new MemoryAudit();
  const secrets = SecretBox.fromKey(randomBytes(32));
  const apps = options.apps ?? [];
  const mdm = new MdmService({
    db: memoryDb(),
    certificates,
    policy: {
      resolveById: async (id) => {
        const device = await devices.findById(null as never, id);
        return device ? ({ device, apps, vpnRows: [], labels: [] } as unknown as ResolvedPolicy) : null;
      },
    },
    profiles: { build: async () => null },
    signing: { trustAnchor: ca.certificate, sign: (content: Buffer) => content },
    push: pushes,
    changes: new ChangeCounter(),
    logger: createLogger('silent'),
    secrets,
    stores: { devices, commands, pushes, audit },
  });

  /** A certificate issued for `deviceRef` (null: minted without a device, bound on Authenticate). */
  function identity(deviceRef: number | null, notAfter = new Date(Date.now() + 86_400_000)): TestIdentity {
    const issued = ca.issueKeyAndCertificate({
      subject: { commonName: `device-${deviceRef ?? 'unbound'}` },
      profile: 'device',
      keyType: 'ec',
    });
    const fingerprint = issued.certificate.fingerprint256;
    certificates.add(fingerprint, { deviceRef, notAfter, serialNumber: issued.serialNumber });
    return { fingerprint, sign: (body) => ({ 'mdm-signature': signMdmRequest(body, issued) }) };
  }

  const plist = (dict: PlistDict) => Buffer.from(toXmlPlist(dict));
  const checkin = (who: TestIdentity, dict: PlistDict) => mdm.checkin(who.sign(plist(dict)), plist(dict));
  const connect = (who: TestIdentity, dict: PlistDict) => mdm.connect(who.sign(plist(dict)), plist(dict));

  /** A device that went through Authenticate and TokenUpdate: ACTIVE, with its identity. */
  async function enrolledDevice(udid = randomBytes(20).toString('hex')) {
    const who = identity(null);
    await checkin(who, { MessageType: 'Authenticate', UDID: udid, Topic: TOPIC });
    const device = [...devices.rows.values()].find((d) => d.udid === udid)!;
    await checkin(who, { MessageType: 'TokenUpdate', UDID: udid, Topic: TOPIC, Token: Buffer.from('token'), PushMagic: 'magic' });
    return { who, udid, id: device.id, uuid: device.uuid };
  }

  return { mdm, ca, devices, commands, pushes, certificates, audit, secrets, identity, plist, checkin, connect, enrolledDevice };
}

export const TOPIC = 'com.apple.mgmt.External.mockiron';
