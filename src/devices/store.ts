import { directFirst, directStatements, sqliteValue, type DbTx, type Prisma } from '../platform/db/client.js';
import { reportedInfo, versionSortKey, type DeviceRow, type ReportedInfo, type ReportedValue } from './fields.js';

/** Columns the bulk insert writes, in order: every column, so no database default applies. */
const insertColumns = [
  'uuid',
  'adminDeviceSpaceId',
  'platform',
  'osVersion',
  'model',
  'manufacturer',
  'deviceName',
  'serialNumber',
  'udid',
  'imei',
  'owner',
  'status',
  'compliant',
  'quarantined',
  'customAttributes',
  'userRef',
  'registeredAt',
  'lastConnectedAt',
  'updatedAt',
  'enrolledAt',
  'topic',
  'pushToken',
  'pushMagic',
  'unlockToken',
  'mdmState',
  'wifiMac',
  'ipAddress',
  'phoneNumber',
  'osVersionKey',
  'reportedInfo',
] as const satisfies ReadonlyArray<keyof DeviceRow>;

/** insertNew's statement: the varying columns from a JSON array per row, a new device's values for the rest. */
const insertNewSql =
  `INSERT INTO "Device" ("uuid","platform","osVersion","model","manufacturer","deviceName","serialNumber","udid","imei","owner","userRef",` +
  `"osVersionKey","registeredAt","updatedAt","adminDeviceSpaceId","status","compliant","quarantined","customAttributes","lastConnectedAt",` +
  `"enrolledAt","topic","pushToken","pushMagic","unlockToken","mdmState","wifiMac","ipAddress","phoneNumber","reportedInfo") ` +
  `SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7, value->>8, value->>9, value->>10, value->>11,` +
  ` ?, ?, 1, 'VERIFICATION_PENDING', 1, 0, '{}', NULL, NULL, NULL, NULL, NULL, NULL, '{}', NULL, NULL, NULL, '{}' FROM json_each(?)`;

/** insertNewSql for one row, its values as parameters (for directStatements). */
const insertOneNewSql = insertNewSql.replace(
  /SELECT value->>0.*FROM json_each\(\?\)$/,
  `VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,1,'VERIFICATION_PENDING',1,0,'{}',NULL,NULL,NULL,NULL,NULL,NULL,'{}',NULL,NULL,NULL,'{}')`,
);

const withUser = { user: true } as const;

/** What insertNew writes of a new device (the other columns take a new device's values). */
export type NewDevice = Pick<
  DeviceRow,
  'uuid' | 'platform' | 'osVersion' | 'model' | 'manufacturer' | 'deviceName' | 'serialNumber' | 'udid' | 'imei' | 'owner' | 'userRef'
>;

/** A device's user as a DeviceRow carries it. */
export type UserRow = NonNullable<DeviceRow['user']>;

/** Which devices a raw page read returns (the device directory's three kinds of read). */
export type DevicePageFilter = { all: true } | { updatedSince: Date } | { userRefs: number[] };

const userColumns = ['id', 'userId', 'email', 'displayName', 'createdAt', 'updatedAt'] as const;

/** A device row and the manual labels it is in (deviceStore.withManualLabels). */
export interface DeviceWithManualLabels {
  device: DeviceRow;
  manualLabelIds: number[];
}

/** A device's columns with its user's (as `u_<column>`): what deviceRowFrom reads. */
const deviceWithUserSelect =
  `SELECT d."id", ${insertColumns.map((c) => `d."${c}"`).join(', ')}, ${userColumns.map((c) => `u."${c}" AS "u_${c}"`).join(', ')}` +
  ` FROM "Device" d LEFT JOIN "User" u ON u."id" = d."userRef"`;

/** The device by a unique key with its user. */
const deviceWithUserSql = (key: 'id' | 'uuid' | 'udid') => `${deviceWithUserSelect} WHERE d."${key}" = ?`;
const deviceWithUserBy = { id: deviceWithUserSql('id'), uuid: deviceWithUserSql('uuid'), udid: deviceWithUserSql('udid') };

/** The same with the ids of the manual labels it is in, as a JSON array. */
const withManualLabelsSql = (key: 'uuid' | 'id') =>
  deviceWithUserSelect.replace(
    ' FROM "Device" d',
    `, (SELECT json_group_array(l."labelId") FROM "DeviceLabel" l WHERE l."deviceId" = d."id") AS "manualLabelIds" FROM "Device" d`,
  ) + ` WHERE d."${key}" = ?`;
const withManualLabelsBy = { uuid: withManualLabelsSql('uuid'), id: withManualLabelsSql('id') };

const withManualLabelsFrom = (raw: Record<string, unknown>): DeviceWithManualLabels => ({
  device: deviceRowFrom(raw),
  manualLabelIds: JSON.parse(String(raw.manualLabelIds)) as number[],
});

function toDate(value: unknown): Date {
  if (value instanceof Date) return value;
  if (typeof value === 'number' || typeof value === 'bigint') return new Date(Number(value));
  const text = String(value);
  // SQLite's CURRENT_TIMESTAMP form carries no zone and means UTC.
  return new Date(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?$/.test(text) ? `${text.replace(' ', 'T')}Z` : text);
}
const toDateOrNull = (value: unknown) => (value == null ? null : toDate(value));

/** A raw Device row joined with its user (columns prefixed u_) as Prisma would return it. */
function deviceRowFrom(raw: Record<string, unknown>): DeviceRow {
  const row = { id: Number(raw.id) } as Record<string, unknown>;
  for (const c of insertColumns) row[c] = raw[c] ?? null;
  row.adminDeviceSpaceId = Number(raw.adminDeviceSpaceId);
  row.userRef = raw.userRef == null ? null : Number(raw.userRef);
  row.compliant = Boolean(raw.compliant);
  row.quarantined = Boolean(raw.quarantined);
  row.registeredAt = toDate(raw.registeredAt);
  row.updatedAt = toDate(raw.updatedAt);
  row.lastConnectedAt = toDateOrNull(raw.lastConnectedAt);
  row.enrolledAt = toDateOrNull(raw.enrolledAt);
  row.user =
    raw.u_id == null
      ? null
      : {
          id: Number(raw.u_id),
          userId: raw.u_userId,
          email: raw.u_email ?? null,
          displayName: raw.u_displayName ?? null,
          createdAt: toDate(raw.u_createdAt),
          updatedAt: toDate(raw.u_updatedAt),
        };
  return row as unknown as DeviceRow;
}

/**
 * The ids of devices written through this store, in order, for the device directory
 * (src/devices/directory.ts): each write operation notes its device after its statement ran, so
 * a directory reading noted ids through the one serialized connection reads them after the
 * writing transaction ended. A ring of the last `capacity` ids: a reader that fell further
 * behind (a bulk import) reloads everything instead.
 */
export class DeviceWriteLog {
  private readonly ids: Float64Array;
  private written = 0;
  constructor(readonly capacity = 65_536) {
    this.ids = new Float64Array(capacity);
  }
  /** How many ids were ever noted: a reader's position. */
  get position(): number {
    return this.written;
  }
  note(id: number): void {
    this.ids[this.written % this.capacity] = id;
    this.written++;
  }
  noteMany(ids: readonly number[]): void {
    for (const id of ids) this.note(id);
  }
  /** The ids noted from `position` on (repeats included), or null when the ring no longer holds them all. */
  since(position: number): number[] | null {
    if (this.written - position > this.capacity || position > this.written) return null;
    const out: number[] = [];
    for (let i = position; i < this.written; i++) out.push(this.ids[i % this.capacity]!);
    return out;
  }
}

/** Every Device write of this process (module-wide: several apps in one test process share it, which only costs re-reads). */
export const deviceWrites = new DeviceWriteLog();

/** Notes the written device after the write ran, and passes its result on. */
async function noted<T>(id: number, write: Promise<T>): Promise<T> {
  const result = await write;
  deviceWrites.note(id);
  return result;
}

/**
 * The directory's columns: exactly what a device's criteria facts are built from, in this order
 * (src/devices/fields.ts factsFromColumns reads them by position).
 */
export const factColumns = [
  'd."id"',
  'd."uuid"',
  'd."adminDeviceSpaceId"',
  'd."platform"',
  'd."osVersion"',
  'd."model"',
  'd."manufacturer"',
  'd."serialNumber"',
  'd."imei"',
  'd."owner"',
  'd."status"',
  'd."compliant"',
  'd."quarantined"',
  'd."registeredAt"',
  'd."lastConnectedAt"',
  'd."deviceName"',
  'd."udid"',
  'd."wifiMac"',
  'd."ipAddress"',
  'd."phoneNumber"',
  '(d."pushToken" IS NOT NULL)',
  'u."userId"',
  'u."email"',
  'u."displayName"',
  'd."customAttributes"',
  'd."reportedInfo"',
] as const;

/** Which devices a facts read returns: ids above one, in id order; these ids; the devices of these users. */
export type FactsFilter = { afterId: number; limit: number } | { ids: readonly number[] } | { userRefs: readonly number[] };

/** What a device says about itself (Authenticate, DeviceInformation, OTA enrollment): only the facts it sent. */
export interface ReportedFacts {
  serialNumber?: string;
  model?: string;
  osVersion?: string;
  deviceName?: string;
  imei?: string;
  wifiMac?: string;
  phoneNumber?: string;
  /** Every scalar a DeviceInformation (QueryResponses) or SecurityInfo answer carried, merged into what was known. */
  reported?: Partial<Record<keyof ReportedInfo, Record<string, unknown>>>;
}

/** Bounds on what a device may leave in reportedInfo: a hostile device cannot grow its row without limit. */
const reportedLimits = { keys: 200, keyLength: 64, textLength: 256 } as const;

/** Only the column facts present: a device that leaves one out does not erase it. */
function reported(f: ReportedFacts): Omit<ReportedFacts, 'reported'> & { osVersionKey?: string | null } {
  return {
    ...(f.serialNumber ? { serialNumber: f.serialNumber } : {}),
    ...(f.model ? { model: f.model } : {}),
    ...(f.osVersion ? { osVersion: f.osVersion, osVersionKey: versionSortKey(f.osVersion) } : {}),
    ...(f.deviceName ? { deviceName: f.deviceName } : {}),
    ...(f.imei ? { imei: f.imei } : {}),
    // Searched columns: bounded, whatever a device sends
    ...(f.wifiMac ? { wifiMac: f.wifiMac.slice(0, 64) } : {}),
    ...(f.phoneNumber ? { phoneNumber: f.phoneNumber.slice(0, 64) } : {}),
  };
}

/** `known` with the scalars of `sent` merged in (dates as ISO text), within reportedLimits. */
function mergeReported(known: ReportedInfo, sent: NonNullable<ReportedFacts['reported']>): ReportedInfo {
  const out: ReportedInfo = { DeviceInformation: { ...known.DeviceInformation }, SecurityInfo: { ...known.SecurityInfo } };
  for (const section of ['DeviceInformation', 'SecurityInfo'] as const) {
    for (const [k, v] of Object.entries(sent[section] ?? {})) {
      if (k.length > reportedLimits.keyLength || k === '__proto__') continue;
      const value: ReportedValue | undefined =
        typeof v === 'string'
          ? v.slice(0, reportedLimits.textLength)
          : typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))
            ? v
            : v instanceof Date && !Number.isNaN(v.getTime())
              ? v.toISOString()
              : undefined;
      if (value === undefined) continue;
      if (!Object.hasOwn(out[section], k) && Object.keys(out[section]).length >= reportedLimits.keys) continue;
      out[section][k] = value;
    }
  }
  return out;
}

/** The sort keys a write must carry along: osVersionKey follows osVersion wherever it is set. */
function withSortKeys<T extends { osVersion?: unknown }>(data: T): T & { osVersionKey?: string | null } {
  if (data.osVersion === undefined) return data;
  const version = typeof data.osVersion === 'string' ? data.osVersion : null;
  return { ...data, osVersionKey: versionSortKey(version) };
}

/** What ends a device's MDM enrollment: tokens and what we knew it held are gone. */
const enrollmentEnded = { pushToken: null, pushMagic: null, mdmState: '{}' } as const;

// The one module that reads and writes the Device table (test/architecture/table-owners.test.ts).
// Other capabilities call the named operations below; the generic `update` is for the devices
// capability's own admin edits.
export const deviceStore = {
  /** Id, uuid and UDID: what device authentication needs of a row. */
  identityById: (tx: DbTx, id: number) => tx.device.findUnique({ where: { id }, select: { id: true, uuid: true, udid: true } }),
  /** Id and uuid only (certificate records name their device by these). */
  refById: (tx: DbTx, id: number) => tx.device.findUnique({ where: { id }, select: { id: true, uuid: true } }),
  refByUuid: (tx: DbTx, uuid: string) => tx.device.findUnique({ where: { uuid }, select: { id: true, uuid: true } }),
  // A device with its user, read on the connection itself where it is open (every MDM request
  // reads its device; Prisma's findUnique with include is two statements and most of the cost).
  findById: (tx: DbTx, id: number): Promise<DeviceRow | null> =>
    directFirst(tx, deviceWithUserBy.id, [id], deviceRowFrom, () => tx.device.findUnique({ where: { id }, include: withUser })),
  findByUuid: (tx: DbTx, uuid: string): Promise<DeviceRow | null> =>
    directFirst(tx, deviceWithUserBy.uuid, [uuid], deviceRowFrom, () => tx.device.findUnique({ where: { uuid }, include: withUser })),
  findByUdid: (tx: DbTx, udid: string): Promise<DeviceRow | null> =>
    directFirst(tx, deviceWithUserBy.udid, [udid], deviceRowFrom, () => tx.device.findUnique({ where: { udid }, include: withUser })),
  /** Id and uuid of the devices among `uuids` (raw: cheap enough for a thousand at a time). */
  idsByUuid: (tx: DbTx, uuids: string[]) =>
    uuids.length === 0
      ? Promise.resolve([])
      : tx
          .$queryRawUnsafe<Array<{ id: number | bigint; uuid: string }>>(
            `SELECT id, uuid FROM "Device" WHERE uuid IN (${uuids.map(() => '?').join(',')})`,
            ...uuids,
          )
          .then((rows) => rows.map((r) => ({ id: Number(r.id), uuid: r.uuid }))),
  count: (tx: DbTx, where: Prisma.DeviceWhereInput = {}) => tx.device.count({ where }),
  /** A page in the order of a Device column or of a column of the device's user (user.display_name), then id. */
  page: (
    tx: DbTx,
    where: Prisma.DeviceWhereInput,
    page: { limit: number; offset: number },
    sort: { column: string } | { userColumn: string },
    order: 'asc' | 'desc',
  ) =>
    tx.device.findMany({
      where,
      include: withUser,
      skip: page.offset,
      take: page.limit,
      orderBy: ['column' in sort ? { [sort.column]: order } : { user: { [sort.userColumn]: order } }, { id: 'asc' }],
    }),
  create: async (tx: DbTx, data: Prisma.DeviceUncheckedCreateInput) => {
    const created = await tx.device.create({ data: withSortKeys(data), include: withUser });
    deviceWrites.note(created.id);
    return created;
  },
  update: (tx: DbTx, id: number, data: Prisma.DeviceUncheckedUpdateInput) =>
    noted(id, tx.device.update({ where: { id }, data: withSortKeys(data), include: withUser })),
  remove: (tx: DbTx, id: number) => noted(id, tx.device.delete({ where: { id } })),
  /** The ids of a user's devices. */
  idsOfUser: async (tx: DbTx, userRef: number) => (await tx.device.findMany({ where: { userRef }, select: { id: true } })).map((d) => d.id),
  /** ACTIVE devices (all, or those among `ids`), with what a push needs. */
  activePushTargets: (tx: DbTx, ids?: number[]) =>
    tx.device.findMany({
      where: { status: 'ACTIVE', ...(ids ? { id: { in: ids } } : {}) },
      select: { id: true, pushToken: true, pushMagic: true, topic: true },
    }),

  // ---- the device's side of enrollment and MDM

  /** OTA phase 2 on a known record: a new enrollment begins (VERIFICATION_PENDING, nothing known held). */
  beginEnrollment: (tx: DbTx, id: number, fields: Omit<ReportedFacts, 'reported'> & { udid: string }, userRef: number | null) =>
    noted(
      id,
      tx.device.update({
        where: { id },
        data: withSortKeys({ ...fields, status: 'VERIFICATION_PENDING', userRef: userRef ?? undefined, mdmState: '{}' }),
        include: withUser,
      }),
    ),
  /**
   * A direct enrollment profile handed out for this record: a new enrollment begins, for the
   * invitation's user (VERIFICATION_PENDING, nothing known held); the UDID comes at Authenticate.
   */
  awaitEnrollment: (tx: DbTx, id: number, userRef: number | null) =>
    noted(
      id,
      tx.device.update({
        where: { id },
        data: { status: 'VERIFICATION_PENDING', userRef: userRef ?? undefined, mdmState: '{}' },
        include: withUser,
      }),
    ),
  /**
   * Authenticate on a record made before its device spoke: the UDID it names is the record's
   * from now on. `releasedBy`, a record whose enrollment ended (RETIRED, WIPED) that held the
   * UDID, gives it up first (the UDID is unique); that record keeps the rest of its history.
   */
  assignUdid: async (tx: DbTx, id: number, udid: string, releasedBy: number | null) => {
    if (releasedBy !== null) await noted(releasedBy, tx.device.update({ where: { id: releasedBy }, data: { udid: null } }));
    return noted(id, tx.device.update({ where: { id }, data: { udid }, include: withUser }));
  },
  /** MDM Authenticate: the device's facts and topic; a new enrollment, so tokens and known state are reset. */
  recordAuthenticate: (tx: DbTx, id: number, facts: ReportedFacts & { topic: string }, at: Date) =>
    noted(
      id,
      tx.device.update({
        where: { id },
        data: { ...reported(facts), topic: facts.topic, ...enrollmentEnded, unlockToken: null, lastConnectedAt: at },
        include: withUser,
      }),
    ),
  /** MDM TokenUpdate: the device is ACTIVE and reachable by push. `unlockToken` is already sealed. */
  recordTokenUpdate: (
    tx: DbTx,
    id: number,
    data: { pushToken: string; pushMagic: string; topic: string; unlockToken?: string; enrolledAt: Date },
    at: Date,
  ) =>
    noted(
      id,
      tx.device.update({
        where: { id },
        data: { ...data, status: 'ACTIVE', lastConnectedAt: at },
        include: withUser,
      }),
    ),
  /** The device polled: when it was last heard from. */
  recordSeen: (tx: DbTx, id: number, at: Date) => noted(id, tx.device.update({ where: { id }, data: { lastConnectedAt: at } })),
  /** A DeviceInformation or SecurityInfo answer: the facts it reported, merged into what was known. */
  recordInformation: async (tx: DbTx, id: number, facts: ReportedFacts) => {
    const data: Prisma.DeviceUncheckedUpdateInput = reported(facts);
    if (facts.reported) {
      const known = await tx.device.findUnique({ where: { id }, select: { reportedInfo: true } });
      if (known) data.reportedInfo = JSON.stringify(mergeReported(reportedInfo(known), facts.reported));
    }
    return noted(id, tx.device.update({ where: { id }, data }));
  },
  /** What the server knows the device holds (JSON, see src/lib/mdm-reconcile). */
  // Not noted in deviceWrites: mdmState and unlockToken are no criteria facts.
  setMdmState: (tx: DbTx, id: number, mdmState: string) => tx.device.update({ where: { id }, data: { mdmState } }),
  markRetired: (tx: DbTx, id: number) => noted(id, tx.device.update({ where: { id }, data: { status: 'RETIRED', ...enrollmentEnded } })),
  markWiped: (tx: DbTx, id: number) => noted(id, tx.device.update({ where: { id }, data: { status: 'WIPED', ...enrollmentEnded } })),
  /** UnlockTokens not yet sealed (stored in clear by older versions). */
  unsealedUnlockTokens: async (tx: DbTx, sealedPrefix: string) =>
    (await tx.device.findMany({
      where: { unlockToken: { not: null }, NOT: { unlockToken: { startsWith: sealedPrefix } } },
      select: { id: true, unlockToken: true },
    })) as Array<{ id: number; unlockToken: string }>,
  setUnlockToken: (tx: DbTx, id: number, sealed: string) => tx.device.update({ where: { id }, data: { unlockToken: sealed } }),
  /** Devices not RETIRED whose serial number, upper-cased, is one of `keys` (upper-case). */
  activeSerialHolders: (tx: DbTx, keys: string[]) =>
    keys.length === 0
      ? Promise.resolve([])
      : tx.$queryRawUnsafe<Array<{ id: number; uuid: string; status: string; serialNumber: string | null }>>(
          `SELECT id, uuid, status, serialNumber FROM Device WHERE status <> 'RETIRED' AND upper(serialNumber) IN (${keys.map(() => '?').join(',')})`,
          ...keys,
        ),
  /**
   * Devices with user, `limit` at most, ids above `afterId`, in id order. Raw SQL: Prisma's
   * findMany costs about 0.2 ms of CPU per row here, which for the device directory's reads of
   * thousands of rows would hold the event loop far too long.
   */
  readPage: async (tx: DbTx, filter: DevicePageFilter, afterId: number, limit: number): Promise<DeviceRow[]> => {
    const where = ['d."id" > ?'];
    const args: unknown[] = [afterId];
    if ('updatedSince' in filter) {
      where.push('d."updatedAt" >= ?');
      args.push(filter.updatedSince);
    } else if ('userRefs' in filter) {
      if (filter.userRefs.length === 0) return [];
      where.push(`d."userRef" IN (${filter.userRefs.map(() => '?').join(',')})`);
      args.push(...filter.userRefs);
    }
    const rows = await tx.$queryRawUnsafe<Array<Record<string, unknown>>>(
      `${deviceWithUserSelect} WHERE ${where.join(' AND ')} ORDER BY d."id" LIMIT ?`,
      ...args,
      limit,
    );
    return rows.map(deviceRowFrom);
  },
  /**
   * Devices' fact columns (factColumns), all rows in one JSON text: SQLite builds it, one
   * JSON.parse reads it. Row by row, the driver and Prisma would build an object per row and
   * per value — about four times the CPU for 100,000 devices.
   */
  factRows: async (tx: DbTx, filter: FactsFilter): Promise<unknown[][]> => {
    let where: string;
    let args: unknown[];
    let tail = '';
    if ('afterId' in filter) {
      where = 'd."id" > ?';
      args = [filter.afterId];
      tail = ' ORDER BY d."id" LIMIT ?';
      args.push(filter.limit);
    } else {
      const list = 'ids' in filter ? filter.ids : filter.userRefs;
      if (list.length === 0) return [];
      where = `d."${'ids' in filter ? 'id' : 'userRef'}" IN (${list.map(() => '?').join(',')})`;
      args = [...list];
    }
    const names = factColumns.map((_, i) => `c${i}`);
    const [row] = await tx.$queryRawUnsafe<Array<{ rows: string | null }>>(
      `SELECT json_group_array(json_array(${names.join(',')})) AS "rows" FROM (SELECT ${factColumns.map((c, i) => `${c} AS c${i}`).join(', ')}` +
        ` FROM "Device" d LEFT JOIN "User" u ON u."id" = d."userRef" WHERE ${where}${tail})`,
      ...args,
    );
    return row?.rows ? (JSON.parse(row.rows) as unknown[][]) : [];
  },
  /** How many devices there are and the newest updatedAt: the directory's check for writes that bypassed this store. */
  fingerprint: async (tx: DbTx) => {
    const [row] = await tx.$queryRawUnsafe<Array<{ n: number | bigint }>>('SELECT count(*) AS n FROM "Device"');
    return { count: Number(row?.n ?? 0) };
  },
  /** Ids of devices updated at or after `since`. */
  idsUpdatedSince: async (tx: DbTx, since: Date) =>
    (await tx.device.findMany({ where: { updatedAt: { gte: since } }, select: { id: true } })).map((d) => d.id),
  /** Devices holding one of `udids`, or not RETIRED and holding one of `serialKeys` (upper-case). */
  holdersOf: (tx: DbTx, udids: string[], serialKeys: string[]) =>
    udids.length + serialKeys.length === 0
      ? Promise.resolve([])
      : tx.$queryRawUnsafe<Array<{ uuid: string; status: string; serialNumber: string | null; udid: string | null }>>(
          `SELECT uuid, status, serialNumber, udid FROM "Device" WHERE udid IN (${udids.map(() => '?').join(',')})` +
            ` OR (status <> 'RETIRED' AND upper(serialNumber) IN (${serialKeys.map(() => '?').join(',')}))`,
          ...udids,
          ...serialKeys,
        ),
  /**
   * Inserts new devices (VERIFICATION_PENDING, nothing reported, no custom attributes: the bulk
   * import's rows) and returns their ids in order. One multi-row statement whose rows come as ONE
   * JSON parameter, read by SQLite's json_each: Prisma costs about 5 µs per bound parameter here
   * (and createMany about 1.5 ms per row), json_each a fraction of that; the SQL text stays the
   * same, so the statement is prepared once.
   */
  insertNew: async (tx: DbTx, rows: NewDevice[], registeredAt: Date, returnIds = true): Promise<number[]> => {
    if (rows.length === 0) return [];
    // Without ids wanted, inside a transaction: one prepared single-row INSERT per row on the
    // connection itself (its parameters bound by better-sqlite3, not Prisma), like a plain script.
    // Its ids come free (the rowid SQLite reports), so they are returned all the same.
    const direct = returnIds ? null : directStatements();
    if (direct) {
      const insert = direct.prepare(insertOneNewSql);
      const at = sqliteValue(registeredAt);
      const ids = new Array<number>(rows.length);
      // One parameter array for every row: better-sqlite3 copies the values when it binds them.
      const values: unknown[] = new Array(14);
      values[12] = at;
      values[13] = at;
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i]!;
        values[0] = r.uuid;
        values[1] = r.platform;
        values[2] = r.osVersion;
        values[3] = r.model;
        values[4] = r.manufacturer;
        values[5] = r.deviceName;
        values[6] = r.serialNumber;
        values[7] = r.udid;
        values[8] = r.imei;
        values[9] = r.owner;
        values[10] = r.userRef;
        values[11] = versionSortKey(r.osVersion);
        ids[i] = insert.run(values);
      }
      return ids;
    }
    const values = JSON.stringify(
      rows.map((r) => [
        r.uuid,
        r.platform,
        r.osVersion,
        r.model,
        r.manufacturer,
        r.deviceName,
        r.serialNumber,
        r.udid,
        r.imei,
        r.owner,
        r.userRef,
        versionSortKey(r.osVersion),
      ]),
    );
    // Without ids wanted, no RETURNING: mapping the rows it returns costs Prisma more than the insert.
    if (!returnIds) {
      await tx.$executeRawUnsafe(insertNewSql, registeredAt, registeredAt, values);
      return [];
    }
    const returned = await tx.$queryRawUnsafe<Array<{ id: number | bigint; uuid: string }>>(
      `${insertNewSql} RETURNING id, uuid`,
      registeredAt,
      registeredAt,
      values,
    );
    const idByUuid = new Map(returned.map((r) => [r.uuid, Number(r.id)]));
    const ids = rows.map((r) => idByUuid.get(r.uuid)!);
    deviceWrites.noteMany(ids);
    return ids;
  },
  /** Manual label memberships of devices named by uuid (new devices: insertNew without ids), one JSON parameter a statement. */
  insertNewMembershipsByUuid: async (tx: DbTx, pairs: ReadonlyArray<readonly [uuid: string, labelId: number]>, createdAt: Date) => {
    if (pairs.length === 0) return;
    await tx.$executeRawUnsafe(
      `INSERT OR IGNORE INTO "DeviceLabel" ("deviceId","labelId","createdAt")` +
        ` SELECT d."id", value->>1, ? FROM json_each(?) JOIN "Device" d ON d."uuid" = value->>0`,
      createdAt,
      JSON.stringify(pairs),
    );
  },
  /**
   * Manual label memberships of new devices by id (insertNew's ids). On the connection itself
   * inside a transaction, one prepared INSERT per pair; else one JSON parameter a statement.
   */
  insertNewMemberships: async (tx: DbTx, pairs: ReadonlyArray<readonly [deviceId: number, labelId: number]>, createdAt: Date) => {
    if (pairs.length === 0) return;
    const direct = directStatements();
    if (direct) {
      const insert = direct.prepare(`INSERT OR IGNORE INTO "DeviceLabel" ("deviceId","labelId","createdAt") VALUES (?,?,?)`);
      const at = sqliteValue(createdAt);
      const values: unknown[] = [0, 0, at];
      for (const [deviceId, labelId] of pairs) {
        values[0] = deviceId;
        values[1] = labelId;
        insert.run(values);
      }
      return;
    }
    await tx.$executeRawUnsafe(
      `INSERT OR IGNORE INTO "DeviceLabel" ("deviceId","labelId","createdAt") SELECT value->>0, value->>1, ? FROM json_each(?)`,
      createdAt,
      JSON.stringify(pairs),
    );
  },
  /** Users by their userId (raw: the bulk import asks for thousands). */
  usersByUserId: async (tx: DbTx, userIds: string[]): Promise<UserRow[]> => {
    if (userIds.length === 0) return [];
    const rows = await tx.$queryRawUnsafe<Array<Record<string, unknown>>>(
      `SELECT ${userColumns.map((c) => `"${c}"`).join(', ')} FROM "User" WHERE "userId" IN (SELECT value FROM json_each(?))`,
      JSON.stringify(userIds),
    );
    return rows.map((u) => ({
      id: Number(u.id),
      userId: String(u.userId),
      email: (u.email as string | null) ?? null,
      displayName: (u.displayName as string | null) ?? null,
      createdAt: toDate(u.createdAt),
      updatedAt: toDate(u.updatedAt),
    }));
  },
  /** Identifiers of devices with a UDID or a serial number, ids above `afterId`, in id order: a large import's conflict check. */
  identifierPage: async (tx: DbTx, afterId: number, limit: number) =>
    (
      await tx.$queryRawUnsafe<
        Array<{ id: number | bigint; uuid: string; status: string; serialNumber: string | null; udid: string | null }>
      >(
        `SELECT id, uuid, status, serialNumber, udid FROM "Device" WHERE id > ? AND (udid IS NOT NULL OR serialNumber IS NOT NULL) ORDER BY id LIMIT ?`,
        afterId,
        limit,
      )
    ).map((d) => ({ ...d, id: Number(d.id) })),
  insertLabelMemberships: async (
    tx: DbTx,
    pairs: ReadonlyArray<readonly [deviceId: number, labelId: number]>,
    createdAt: Date,
  ): Promise<void> => {
    // 1,000 pairs a statement keeps well under SQLite's 32,766 bound parameters.
    for (let i = 0; i < pairs.length; i += 1000) {
      const chunk = pairs.slice(i, i + 1000);
      await tx.$executeRawUnsafe(
        `INSERT OR IGNORE INTO "DeviceLabel" ("deviceId","labelId","createdAt") VALUES ${chunk.map(() => '(?,?,?)').join(',')}`,
        ...chunk.flatMap(([deviceId, labelId]) => [deviceId, labelId, createdAt]),
      );
    }
  },
  /**
   * A device with its user and the ids of the manual labels it is in, in one raw statement:
   * what a policy is resolved from. Through Prisma it took three statements (the device, its
   * user, its labels) and their query planning, most of a first profile build.
   */
  withManualLabels: (tx: DbTx, key: { uuid: string } | { id: number }): Promise<DeviceWithManualLabels | null> => {
    const sql = 'uuid' in key ? withManualLabelsBy.uuid : withManualLabelsBy.id;
    const value = 'uuid' in key ? key.uuid : key.id;
    return directFirst(tx, sql, [value], withManualLabelsFrom, async () => {
      const [raw] = await tx.$queryRawUnsafe<Array<Record<string, unknown>>>(sql, value);
      return raw ? withManualLabelsFrom(raw) : null;
    });
  },
  manualLabelIds: async (tx: DbTx, deviceId: number) =>
    (await tx.deviceLabel.findMany({ where: { deviceId }, select: { labelId: true } })).map((r) => r.labelId),
};
