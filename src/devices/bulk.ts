// CSV bulk registration (POST /api/v2/devices/bulk) as a streamed job.
//
// Two phases. Reading: the body is decoded and parsed as it arrives, every row checked (the rules
// of bulk-rows.ts, duplicates within the file), nothing locked; the row and byte caps refuse a
// file as soon as it crosses them. Writing: one transaction — users, labels and conflicts with
// registered devices checked first, then multi-row INSERTs of a few hundred rows, yielding to the
// event loop between them — so a bad row anywhere means nothing is written. The writes hold the
// database (one connection, serialized) for their duration only, never while a client uploads.
// Imports write one at a time (the others wait, `queued`).
import { createHash, randomUUID } from 'node:crypto';
import { requireRead, requireWrite, type Actor } from '../platform/auth/actor.js';
import { recordAudit } from '../audit/index.js';
import type { Db, DbTx } from '../platform/db/client.js';
import { DomainError, type ErrorDetail } from '../platform/errors/index.js';
import type { Logger } from '../platform/logger.js';
import { CsvReader, CsvSyntaxError } from '../lib/csv/reader.js';
import { forEachInSlices, slices, yieldToEventLoop } from '../lib/slices.js';
import { checkCsvHeader, checkCsvRow, type CsvColumn, type CsvDevice } from './bulk-rows.js';
import type { DeviceDirectory } from './directory.js';
import { deviceSummary, type DeviceRow } from './fields.js';
import type { DeviceLabels } from './service.js';
import { deviceStore, type NewDevice, type UserRow } from './store.js';

export interface BulkImportLimits {
  /** Bytes of CSV one import may hold (after any Content-Encoding is undone). */
  maxBytes: number;
  /** Data rows one import may hold. */
  maxRows: number;
  /** Imports of at most this many rows answer inline (201 with the devices); larger ones run as a job (202). */
  inlineRows: number;
  /** Finished jobs remembered (oldest forgotten first). */
  keptJobs: number;
  /** Imports reading or waiting to write at once; one more is refused (429). */
  activeJobs: number;
}

export const defaultBulkImportLimits: BulkImportLimits = {
  maxBytes: 200 * 1024 * 1024,
  maxRows: 1_000_000,
  inlineRows: 10_000,
  keptJobs: 100,
  activeJobs: 4,
};

export type ImportState = 'queued' | 'running' | 'succeeded' | 'failed';

/** A row's problem: `row` is the record's number in the file, the header being 1. */
export interface ImportRowError {
  row: number;
  field: string;
  message: string;
}

/** What GET /api/v2/devices/bulk/{jobId} answers. */
export interface ImportJobView {
  id: string;
  state: ImportState;
  phase: 'reading' | 'checking' | 'writing' | 'done';
  rowsRead: number;
  rowsWritten: number;
  errorCount: number;
  errors: ImportRowError[];
  message: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

/** Per-row messages kept at most (a job's list and an inline answer's); errorCount still counts them all. */
export const maxRowMessages = 200;
/** Rows a multi-row INSERT writes (a few milliseconds of work between two yields). */
const insertRows = 250;
/** Rows looked at between two yields in the checks that loop over every row. */
const yieldRows = 5_000;
/** Existing devices read per query when checking a large import for conflicts. */
const scanRows = 5_000;
/** Up to this many rows, conflicts are looked up by key; above, every registered identifier is read once. */
const lookupRowsMax = 2_000;

type CsvRowError = ErrorDetail & { details: { row: number; field: string } };

function rowError(row: number, field: string, message: string): CsvRowError {
  return { code: 'device.csvRow', message: `row ${row}: ${field}: ${message}`, details: { row, field } };
}

/** The comparison key of a serial number: serials are compared without case (see DeviceService). */
const serialKey = (serial: string | undefined) => (serial ? serial.toUpperCase() : undefined);

export class ImportJob {
  readonly id = randomUUID();
  state: ImportState = 'running';
  phase: ImportJobView['phase'] = 'reading';
  rowsRead = 0;
  rowsWritten = 0;
  errorCount = 0;
  readonly errors: CsvRowError[] = [];
  /** A failure that is not a row's (the request refused, the database failed). */
  failure: DomainError | undefined;
  readonly createdAt = new Date();
  startedAt: Date | null = new Date();
  finishedAt: Date | null = null;
  /** The devices written, kept only for an inline answer. */
  devices: DeviceRow[] | undefined;
  /** Settles when the job has succeeded or failed (never rejects). */
  finished: Promise<void> = Promise.resolve();

  constructor(readonly actor: string) {}

  addError(e: CsvRowError): void {
    this.errorCount++;
    if (this.errors.length < maxRowMessages) this.errors.push(e);
  }

  /** The job's failure as the one error model says it: the row errors (first, then the rest), or the failure. */
  error(): DomainError | undefined {
    if (this.failure) return this.failure;
    if (this.errorCount === 0) return undefined;
    const [first, ...rest] = this.errors;
    return new DomainError(
      first!.code,
      first!.message,
      { row: first!.details.row, field: first!.details.field, errorCount: this.errorCount },
      rest,
    );
  }

  view(): ImportJobView {
    return {
      id: this.id,
      state: this.state,
      phase: this.phase,
      rowsRead: this.rowsRead,
      rowsWritten: this.rowsWritten,
      errorCount: this.errorCount + (this.failure && this.errorCount === 0 ? 1 : 0),
      errors: this.errors.map((e) => ({ row: e.details.row, field: e.details.field, message: e.message })),
      message: this.failure?.message ?? this.errors[0]?.message ?? null,
      createdAt: this.createdAt.toISOString(),
      startedAt: this.startedAt?.toISOString() ?? null,
      finishedAt: this.finishedAt?.toISOString() ?? null,
    };
  }
}

export class DeviceImporter {
  /** Jobs by id, oldest first. */
  private readonly jobs = new Map<string, ImportJob>();
  /** The write phases, one after the other. */
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Db,
    private readonly directory: DeviceDirectory,
    private readonly labels: DeviceLabels,
    private readonly logger: Logger,
    readonly limits: BulkImportLimits = defaultBulkImportLimits,
  ) {}

  /**
   * Opens an import: refuses a viewer, a body declared larger than the cap, and one import more
   * than `activeJobs` — before a byte of the body is read.
   */
  open(actor: Actor, declaredBytes?: number): ImportJob {
    requireWrite(actor);
    if (declaredBytes !== undefined && declaredBytes > this.limits.maxBytes) throw this.tooManyBytes();
    const active = [...this.jobs.values()].filter((j) => j.state === 'running' || j.state === 'queued').length;
    if (active >= this.limits.activeJobs)
      throw new DomainError('device.importBusy', `${active} imports are in progress; retry when one has finished`, {
        retryAfterSeconds: 5,
      });
    const job = new ImportJob(actor.username);
    this.jobs.set(job.id, job);
    this.forgetOld();
    return job;
  }

  /**
   * Reads and checks the CSV, then hands the rows to the writer (`job.finished` settles when it is
   * done). Throws a DomainError when the request itself is refused (too large, not UTF-8, no rows,
   * a bad header); row problems fail the job instead, like problems found when writing. `inline`:
   * the caller answers with the devices (the client did not ask for a job, and the file is small).
   */
  async read(job: ImportJob, body: AsyncIterable<Buffer | string>, opts: { async: boolean }): Promise<{ inline: boolean }> {
    let rows: CsvDevice[];
    try {
      rows = await this.readRows(job, body);
    } catch (err) {
      if (err instanceof DomainError) this.fail(job, err);
      else this.fail(job, new DomainError('server.internal', 'Internal server error'));
      throw err;
    }
    const inline = !opts.async && job.rowsRead <= this.limits.inlineRows;
    if (job.errorCount > 0) {
      this.finish(job, 'failed');
      return { inline };
    }
    job.state = 'queued';
    job.phase = 'checking';
    const turn = this.writing.then(() => this.write(job, rows, inline));
    this.writing = turn;
    job.finished = turn;
    return { inline };
  }

  /** A job, for an admin: 404 for an id never seen or forgotten. */
  view(actor: Actor, id: string): ImportJobView {
    requireRead(actor);
    const job = this.jobs.get(id);
    if (!job) throw DomainError.notFound('Import job', id);
    return job.view();
  }

  private async readRows(job: ImportJob, body: AsyncIterable<Buffer | string>): Promise<CsvDevice[]> {
    const utf8 = new TextDecoder('utf-8', { fatal: true });
    const reader = new CsvReader();
    const records: string[][] = [];
    const rows: CsvDevice[] = [];
    const firstRowOf = { udid: new Map<string, number>(), serialNumber: new Map<string, number>() };
    let columns: CsvColumn[] | undefined;
    let bytes = 0;
    let recordNumber = 0;
    const take = () => {
      for (const fields of records) {
        recordNumber++;
        if (!columns) {
          columns = checkCsvHeader(fields);
          continue;
        }
        job.rowsRead++;
        if (job.rowsRead > this.limits.maxRows)
          throw new DomainError('device.csvTooLarge', `CSV has more than ${this.limits.maxRows} rows; split it`);
        const checked = checkCsvRow(columns, fields, recordNumber);
        if (!checked.ok) {
          job.addError(rowError(recordNumber, checked.field, checked.message));
          continue;
        }
        const row = checked.value;
        const udid = row.udid?.toLowerCase();
        if (udid !== undefined) {
          const first = firstRowOf.udid.get(udid);
          if (first !== undefined) job.addError(rowError(recordNumber, 'udid', `duplicates row ${first}`));
          else firstRowOf.udid.set(udid, recordNumber);
        }
        const serial = serialKey(row.serialNumber);
        if (serial !== undefined) {
          const first = firstRowOf.serialNumber.get(serial);
          if (first !== undefined) job.addError(rowError(recordNumber, 'serialNumber', `duplicates row ${first}`));
          else firstRowOf.serialNumber.set(serial, recordNumber);
        }
        // Rows are kept only while the file may still be written.
        if (job.errorCount === 0) rows.push(row);
      }
      records.length = 0;
    };
    try {
      for await (const chunk of body) {
        const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        bytes += buf.length;
        if (bytes > this.limits.maxBytes) throw this.tooManyBytes();
        reader.push(utf8.decode(buf, { stream: true }), records);
        take();
        if (job.errorCount > 0) rows.length = 0;
        // Other requests run between two chunks, whatever the socket has buffered.
        await yieldToEventLoop();
      }
      reader.push(utf8.decode(), records);
      reader.end(records);
      take();
    } catch (err) {
      if (err instanceof CsvSyntaxError) {
        if (err.tooLong) throw new DomainError('device.csvTooLarge', `CSV ${err.message}; a row is at most 64 KiB`);
        throw new DomainError('device.csv', `CSV could not be parsed: ${err.message}`, { line: err.line });
      }
      if (err instanceof TypeError && (err as { code?: string }).code === 'ERR_ENCODING_INVALID_ENCODED_DATA')
        throw new DomainError('request.notUtf8', 'Request body is not valid UTF-8');
      throw err;
    }
    if (bytes === 0) throw DomainError.validation('body', 'CSV body is empty');
    if (!columns || job.rowsRead === 0) throw new DomainError('device.csv', 'CSV has no data rows');
    return job.errorCount > 0 ? [] : rows;
  }

  private async write(job: ImportJob, rows: CsvDevice[], keepDevices: boolean): Promise<void> {
    job.state = 'running';
    try {
      const devices = await this.db.$transaction((tx) => this.writeRows(tx, job, rows, keepDevices), {
        // The lock is held for the writes only (a second or two per 100,000 rows here); the
        // event loop stays free between statements. Generous bounds beyond the 5 s default.
        timeout: 120_000 + rows.length,
        maxWait: 60_000,
      });
      job.devices = devices;
      this.finish(job, job.errorCount > 0 ? 'failed' : 'succeeded');
    } catch (err) {
      if (err instanceof DomainError) this.fail(job, err);
      else {
        this.logger.error({ err, job: job.id }, 'bulk import failed');
        job.rowsWritten = 0;
        this.fail(job, new DomainError('server.internal', 'Internal server error'));
      }
    }
  }

  /** Inside the transaction: references and conflicts, then the rows a slice at a time. Returns the devices (kept or not). */
  private async writeRows(tx: DbTx, job: ImportJob, rows: CsvDevice[], keepDevices: boolean): Promise<DeviceRow[] | undefined> {
    const refs = await this.resolveReferences(tx, job, rows);
    if (job.errorCount > 0) return undefined;
    job.phase = 'writing';
    const kept: DeviceRow[] | undefined = keepDevices ? [] : undefined;
    // The audit digest: SHA-256 of the new uuids in id order (the file's order), one per line,
    // hashed as they are written: no list of a million uuids to keep or sort.
    const digest = createHash('sha256');
    let written = 0;
    const registeredAt = new Date();
    for (let i = 0; i < rows.length; i += insertRows) {
      await yieldToEventLoop();
      const slice = rows.slice(i, i + insertRows);
      // A whole DeviceRow only for an inline answer: a job writes a million rows without them.
      const devices = slice.map((r) =>
        kept
          ? newDeviceRow(r, registeredAt, r.userId ? refs.users.get(r.userId)! : null)
          : newDevice(r, r.userId ? refs.users.get(r.userId)!.id : null),
      );
      const ids = await deviceStore.insertNew(tx, devices, registeredAt, kept !== undefined);
      // The new ids when insertNew had them (on the connection itself they come free): memberships
      // by id, without looking each uuid up again.
      const byId = ids.length === slice.length;
      const memberships: Array<readonly [number, number]> = [];
      const membershipsByUuid: Array<readonly [string, number]> = [];
      // The slice's uuids hashed in one update (one call into the hash per slice, not per row).
      let uuids = written === 0 ? '' : '\n';
      for (let k = 0; k < slice.length; k++) {
        uuids += k === 0 ? devices[k]!.uuid : `\n${devices[k]!.uuid}`;
        written++;
        const labels = slice[k]!.labels;
        if (labels.length === 0) continue;
        // One label (the usual case) needs no Set to drop names that differ only in case.
        const labelIds =
          labels.length === 1
            ? [refs.labelIds.get(labels[0]!.toLowerCase())!]
            : new Set(labels.map((name) => refs.labelIds.get(name.toLowerCase())!));
        for (const labelId of labelIds) {
          if (byId) memberships.push([ids[k]!, labelId]);
          else membershipsByUuid.push([devices[k]!.uuid, labelId]);
        }
      }
      digest.update(uuids);
      await deviceStore.insertNewMemberships(tx, memberships, registeredAt);
      await deviceStore.insertNewMembershipsByUuid(tx, membershipsByUuid, registeredAt);
      if (kept) {
        (devices as DeviceRow[]).forEach((d, k) => (d.id = ids[k]!));
        kept.push(...(devices as DeviceRow[]));
      }
      job.rowsWritten += slice.length;
    }
    // The inserts above bypass the counting client: the device directory and the caches keyed on
    // the change count catch up once, at their next read after the commit.
    this.directory.noteBulkWrite();
    await yieldToEventLoop();
    await recordAudit(tx, {
      actor: job.actor,
      action: 'bulk.create',
      objectType: 'device',
      details: { count: written, job: job.id, uuidsSha256: digest.digest('hex') },
    });
    return kept;
  }

  /**
   * Users and labels the rows name, and conflicts with registered devices (UDID; serial number
   * of a device not RETIRED): a few queries of a few hundred keys, or for a large file one read
   * of every registered identifier — never a query per row.
   */
  private async resolveReferences(tx: DbTx, job: ImportJob, rows: CsvDevice[]) {
    const userIds = new Set<string>();
    const labelKeys = new Set<string>();
    for (let i = 0; i < rows.length; i++) {
      if (i % yieldRows === 0) await yieldToEventLoop();
      const r = rows[i]!;
      if (r.userId) userIds.add(r.userId);
      for (const l of r.labels) labelKeys.add(l.toLowerCase());
    }
    const users = new Map<string, UserRow>();
    for (const keys of slices([...userIds], insertRows)) {
      for (const u of await deviceStore.usersByUserId(tx, keys)) users.set(u.userId, u);
      await yieldToEventLoop();
    }
    const labelIds = new Map<string, number>();
    const labelProblems = new Map<string, string>();
    for (const keys of slices([...labelKeys], insertRows)) {
      for (const l of await this.labels.findByNameKeys(tx, keys)) {
        if (l.isStatic) labelIds.set(l.nameKey, l.id);
        else labelProblems.set(l.nameKey, `${l.name} is a filter label and cannot be applied by hand`);
      }
    }
    const udidHolders = new Set<string>();
    const serialHolders = new Map<string, { uuid: string; status: string; serialNumber: string | null }>();
    const note = (d: { uuid: string; status: string; serialNumber: string | null; udid: string | null }) => {
      if (d.udid) udidHolders.add(d.udid);
      if (d.status !== 'RETIRED' && d.serialNumber) serialHolders.set(d.serialNumber.toUpperCase(), d);
    };
    if (rows.length <= lookupRowsMax) {
      for (const slice of slices(rows, insertRows)) {
        const udids = slice.flatMap((r) => (r.udid ? [r.udid] : []));
        const serials = slice.flatMap((r) => serialKey(r.serialNumber) ?? []);
        for (const d of await deviceStore.holdersOf(tx, udids, serials)) note(d);
      }
    } else {
      for (let after = 0; ;) {
        const page = await deviceStore.identifierPage(tx, after, scanRows);
        for (const d of page) note(d);
        if (page.length < scanRows) break;
        after = page.at(-1)!.id;
        await yieldToEventLoop();
      }
    }
    for (let i = 0; i < rows.length; i++) {
      if (i % yieldRows === 0) await yieldToEventLoop();
      const r = rows[i]!;
      if (r.userId && !users.has(r.userId))
        job.addError(rowError(r.line, 'userId', `no user ${r.userId}; create it with POST /api/v2/users first`));
      if (r.udid && udidHolders.has(r.udid)) job.addError(rowError(r.line, 'udid', `a device with UDID ${r.udid} is already registered`));
      const holder = serialHolders.get(serialKey(r.serialNumber) ?? '');
      if (holder)
        job.addError(
          rowError(
            r.line,
            'serialNumber',
            `device ${holder.uuid} (${holder.status}) already has serial number ${holder.serialNumber}; retire it first`,
          ),
        );
      for (const name of r.labels) {
        const key = name.toLowerCase();
        if (!labelIds.has(key)) job.addError(rowError(r.line, 'labels', labelProblems.get(key) ?? `no label named ${name}`));
      }
    }
    return { users, labelIds };
  }

  private fail(job: ImportJob, err: DomainError): void {
    if (err.code !== 'device.csvRow') job.failure = err;
    this.finish(job, 'failed');
  }

  private finish(job: ImportJob, state: 'succeeded' | 'failed'): void {
    job.state = state;
    job.phase = 'done';
    job.finishedAt = new Date();
    if (state === 'failed') job.rowsWritten = 0;
    this.forgetOld();
  }

  /** Keeps at most `keptJobs` finished jobs. */
  private forgetOld(): void {
    let finished = [...this.jobs.values()].filter((j) => j.state === 'succeeded' || j.state === 'failed').length;
    for (const [id, j] of this.jobs) {
      if (finished <= this.limits.keptJobs) break;
      if (j.state !== 'succeeded' && j.state !== 'failed') continue;
      this.jobs.delete(id);
      finished--;
    }
  }

  private tooManyBytes(): DomainError {
    return new DomainError('device.csvTooLarge', `CSV is larger than ${this.limits.maxBytes} bytes; split it`);
  }
}

/** The devices as the inline answer lists them, built in slices that yield to the event loop. */
export async function importedSummaries(devices: DeviceRow[]): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  await forEachInSlices(devices, 400, (d) => out.push(deviceSummary(d)));
  return out;
}

/** What the import writes of a row (insertNew gives the other columns a new device's values). */
function newDevice(r: CsvDevice, userRef: number | null): NewDevice {
  return {
    uuid: randomUUID(),
    platform: r.platform,
    osVersion: r.osVersion ?? null,
    model: r.model ?? null,
    manufacturer: r.platform === 'iOS' ? 'Apple' : null,
    deviceName: r.deviceName ?? null,
    serialNumber: r.serialNumber ?? null,
    udid: r.udid ?? null,
    imei: r.imei ?? null,
    owner: r.owner ?? 'COMPANY',
    userRef,
  };
}

/** A new device's row as the import inserts it, every column set (no database defaults): for the inline answer. */
function newDeviceRow(r: CsvDevice, registeredAt: Date, user: UserRow | null): DeviceRow {
  return {
    id: 0,
    uuid: randomUUID(),
    adminDeviceSpaceId: 1,
    platform: r.platform,
    osVersion: r.osVersion ?? null,
    model: r.model ?? null,
    manufacturer: r.platform === 'iOS' ? 'Apple' : null,
    deviceName: r.deviceName ?? null,
    serialNumber: r.serialNumber ?? null,
    udid: r.udid ?? null,
    imei: r.imei ?? null,
    wifiMac: null,
    ipAddress: null,
    phoneNumber: null,
    osVersionKey: null,
    reportedInfo: '{}',
    owner: r.owner ?? 'COMPANY',
    status: 'VERIFICATION_PENDING',
    compliant: true,
    quarantined: false,
    customAttributes: '{}',
    userRef: user?.id ?? null,
    user,
    registeredAt,
    lastConnectedAt: null,
    updatedAt: registeredAt,
    enrolledAt: null,
    topic: null,
    pushToken: null,
    pushMagic: null,
    unlockToken: null,
    mdmState: '{}',
  };
}
