// The command endpoint (NanoMDM's CommandAndReportResults): a device reports the result of a
// command, or that it is Idle, and gets its next command. What a result teaches about the
// device (its facts, what it holds, that it was wiped or left) is applied in the same
// transaction as the result itself.
import type { DeviceRow } from '../devices/index.js';
import { enrollmentProfileIdentifier } from '../enrollment/index.js';
import { yieldToEventLoop } from '../lib/slices.js';
import {
  IdlePollDecoder,
  MdmProtocolError,
  parseResultPayload,
  type CommandResult,
  type ResultPayload,
} from '../lib/mdm-protocol/index.js';
import { applyAcknowledged, parseKnownState } from '../lib/mdm-reconcile/index.js';
import {
  PlistReal,
  PlistWriteError,
  isPlistDict,
  plistLimitsForBody,
  plistToJson,
  toXmlPlist,
  type PlistDict,
} from '../lib/plist/index.js';
import type { Db, DbTx } from '../platform/db/client.js';
import { groupCommitFor } from '../platform/db/group-commit.js';
import { DEVICE_BODY_LIMITS } from '../platform/http/device-limits.js';
import type { Logger } from '../platform/logger.js';
import { vpnProfileIdentifier } from '../profiles/index.js';
import { deviceRowOf } from './checkin.js';
import type { DeviceAuthenticator, RequestHeaders } from './device-auth.js';
import { echo, nextCommand, rejected, type DeviceOutcome } from './outcomes.js';
import type { AppInventoryRecords, AuthenticatedDevice, CommandRecords, DeviceRecords } from './ports.js';
import type { CommandQueue } from './queue.js';
import type { Reconciler } from './reconciler.js';
import type { Retirement } from './retirement.js';

/** Plist limits of the endpoint: decoded size in proportion to its body limit. */
const CONNECT_PLIST_LIMITS = plistLimitsForBody(DEVICE_BODY_LIMITS.connect);

export class CommandResults {
  private readonly lastSeenWrite = new Map<number, number>();
  private readonly decoder = new IdlePollDecoder();
  /** Where InstalledApplicationList answers go (the inventory capability, set by src/app/services.ts); null: not kept. */
  appInventory: AppInventoryRecords | null = null;

  constructor(
    private readonly db: Db,
    private readonly auth: DeviceAuthenticator,
    private readonly devices: Pick<DeviceRecords, 'findById' | 'recordSeen' | 'recordInformation' | 'setMdmState'>,
    private readonly commands: Pick<CommandRecords, 'findByUuid' | 'complete'>,
    private readonly queue: Pick<CommandQueue, 'next' | 'nextIn' | 'ready'>,
    private readonly reconciler: Pick<Reconciler, 'needsReconcile' | 'reconcile' | 'markDirty'>,
    private readonly retirement: Pick<Retirement, 'retire' | 'wipe'>,
    private readonly logger: Logger,
  ) {}

  async handle(headers: RequestHeaders, body: Buffer): Promise<DeviceOutcome> {
    const identity = await this.auth.orRefuse(() => this.auth.identify(headers, body));
    if ('refused' in identity) return identity.refused;
    let result: CommandResult;
    try {
      // Idle polls are remembered per certificate: only an authenticated device fills the cache
      result = this.decoder.decode(identity.fingerprint, body, CONNECT_PLIST_LIMITS);
    } catch (err) {
      if (err instanceof MdmProtocolError)
        return { ...rejected(`malformed command result: ${echo(err.message)}`), deviceUuid: identity.device?.uuid };
      throw err;
    }
    // allowUnbound false: a device or a DeviceAuthError, never null
    const matched = await this.auth.orRefuse(() => this.auth.match(identity, result.udid, false)!, result.udid);
    if ('refused' in matched) return matched.refused;
    const device = matched;
    const deviceUuid = device.uuid;
    if (result.status === 'Idle') {
      if (this.touchDue(device)) await this.commits.run((tx) => this.touch(tx, device));
      if (this.reconciler.needsReconcile(device.id)) await this.reconciler.reconcile(device.id);
      return { ...nextCommand(await this.queue.next(device.id, { requeue: true })), deviceUuid, message: 'Idle' };
    }
    const row = await this.auth.orRefuse(() => deviceRowOf(this.db, this.devices, device), result.udid);
    if ('refused' in row) return row.refused;
    await this.queue.ready();
    // The answer written out as XML before its transaction: encoding a big answer takes tens of
    // ms, which inside would hold the connection (and the other results of its batch) back.
    if (body.length > 256 * 1024) await yieldToEventLoop();
    const encoded = encodeAnswer(result);
    // The answer, what it teaches about the device, and the next command: one unit of the group
    // commit, so a crash can never leave a command acknowledged without its effect (which would
    // make reconciliation send it again). The device hears the answer only once it is on disk.
    const outcome = await this.commits.run(async (tx) => {
      await this.touch(tx, device);
      const refused = await this.record(tx, row, result, encoded);
      if (refused) return refused;
      return nextCommand(await this.queue.nextIn(tx, device.id, { requeue: false }));
    });
    return { ...outcome, deviceUuid, message: result.status };
  }

  /** Results commit in groups (src/platform/db/group-commit.ts), shared with the command queue. */
  private get commits() {
    return groupCommitFor(this.db);
  }

  /** lastConnectedAt is written at most every 30 s per device, so polling does not churn the database. */
  private touchDue(device: AuthenticatedDevice): boolean {
    return Date.now() - (this.lastSeenWrite.get(device.id) ?? 0) >= 30_000;
  }

  private async touch(tx: DbTx, device: AuthenticatedDevice) {
    if (!this.touchDue(device)) return;
    const now = Date.now();
    this.lastSeenWrite.set(device.id, now);
    await this.devices.recordSeen(tx, device.id, new Date(now));
  }

  /** Stores a device's answer; returns an outcome only when the answer cannot be accepted. */
  private async record(tx: DbTx, device: DeviceRow, result: CommandResult, encoded: EncodedAnswer): Promise<DeviceOutcome | null> {
    const cmd = await this.commands.findByUuid(tx, device.id, result.commandUuid!);
    if (!cmd) {
      this.logger.warn({ deviceUuid: device.uuid, commandUuid: result.commandUuid }, 'result for an unknown CommandUUID');
      return rejected(`unknown CommandUUID ${echo(result.commandUuid!, 64)}`);
    }
    if (cmd.status === 'Canceled' || cmd.status === 'Acknowledged') {
      // a late or repeated answer: accepted, changes nothing
      return null;
    }
    // A value the readers take but XML cannot carry (a control character in a string, as a
    // binary plist may hold): the answer is refused, where storing it used to fail with a 500
    if ('unwritable' in encoded) return rejected(`malformed command result: ${echo(encoded.unwritable)}`);
    const rawXml = encoded.xml;
    // An answer can be big (InstalledApplicationList or CertificateList of a real iPad: up to the
    // 2 MiB /mdm/connect accepts). Storing it and reading its payload each take tens of ms at
    // that size: other requests run in between, not after all of them.
    if (rawXml.length > 256 * 1024) await yieldToEventLoop();
    await this.commands.complete(tx, cmd.id, {
      status: result.status,
      result: rawXml,
      errorChain: result.errorChain.length ? JSON.stringify(result.errorChain) : null,
    });
    if (rawXml.length > 256 * 1024) await yieldToEventLoop();
    if (result.status === 'Acknowledged') {
      await this.afterAcknowledged(tx, device, cmd, result);
    } else if (result.status === 'Error' || result.status === 'CommandFormatError') {
      this.logger.info(
        { deviceUuid: device.uuid, requestType: cmd.requestType, errors: result.errorChain },
        'device reported a command error',
      );
    }
    return null;
  }

  private async afterAcknowledged(
    tx: DbTx,
    device: DeviceRow,
    cmd: { requestType: string; purpose: string | null; body: string },
    result: CommandResult,
  ) {
    if (cmd.purpose) {
      const fresh = (await this.devices.findById(tx, device.id))!;
      const identifier = cmd.requestType === 'InstallProfile' ? vpnProfileIdentifier(fresh.uuid) : undefined;
      await this.devices.setMdmState(
        tx,
        device.id,
        JSON.stringify(applyAcknowledged(parseKnownState(fresh.mdmState), cmd.purpose, identifier)),
      );
    }
    let payload: ResultPayload | undefined;
    try {
      payload = parseResultPayload(result, cmd.requestType);
    } catch (err) {
      if (!(err instanceof MdmProtocolError)) throw err;
      // The status is recorded and the raw answer kept; only its payload could not be read.
      this.logger.warn({ deviceUuid: device.uuid, requestType: cmd.requestType, reason: err.message }, 'unreadable result payload');
    }
    if (payload) await this.payloadHandlers[payload.requestType]?.(tx, device, payload as never);
    if (cmd.requestType === 'EraseDevice') await this.retirement.wipe(tx, device);
    if (cmd.requestType === 'RemoveProfile' && cmd.purpose === null && cmd.body.includes(enrollmentProfileIdentifier(device.uuid))) {
      await this.retirement.retire(tx, device, 'the MDM enrollment profile was removed');
    }
  }

  /** What each kind of result teaches us about the device. */
  private readonly payloadHandlers: {
    [K in ResultPayload['requestType']]?: (
      tx: DbTx,
      device: DeviceRow,
      payload: Extract<ResultPayload, { requestType: K }>,
    ) => Promise<void>;
  } = {
    DeviceInformation: async (tx, device, { data }) => {
      this.reconciler.markDirty([device.id]);
      await this.devices.recordInformation(tx, device.id, {
        osVersion: data.osVersion,
        model: data.productName,
        deviceName: data.deviceName,
        serialNumber: data.serialNumber,
        imei: data.imei,
        wifiMac: data.wifiMac,
        phoneNumber: data.phoneNumber,
        // Every scalar answer, for the Core fields read from it (src/lib/criteria/fields.ts)
        reported: { DeviceInformation: reportedScalars(data.queryResponses) },
      });
    },
    SecurityInfo: async (tx, device, { data }) => {
      // ManagementStatus's keys flattened beside the others, as the field catalogue reads them
      const { ManagementStatus: management, ...rest } = data.securityInfo;
      const flat = { ...reportedScalars(rest), ...(isPlistDict(management) ? reportedScalars(management) : {}) };
      await this.devices.recordInformation(tx, device.id, { reported: { SecurityInfo: flat } });
    },
    ProfileList: async (tx, device, { data }) => {
      // A VPN profile we believe installed but the device does not list: forget it, so it is reinstalled.
      const fresh = (await this.devices.findById(tx, device.id))!;
      const known = parseKnownState(fresh.mdmState);
      const listed = new Set(data.profiles.map((p) => p.identifier));
      if (known.vpnProfile && !listed.has(known.vpnProfile.identifier)) {
        await this.devices.setMdmState(tx, device.id, JSON.stringify({ ...known, vpnProfile: null }));
      }
    },
    InstalledApplicationList: async (tx, device, { data }) => {
      if (!this.appInventory) return;
      // What we installed ourselves is managed; of the rest the answer does not tell.
      const ours = parseKnownState(device.mdmState).apps ?? {};
      const apps = data.applications.map((app) => ({
        identifier: app.identifier ?? null,
        name: app.name ?? null,
        version: app.version ?? null,
        shortVersion: app.shortVersion ?? null,
        bundleSize: app.bundleSize ?? null,
        managed: app.identifier !== undefined && Object.hasOwn(ours, app.identifier) ? true : null,
      }));
      await this.appInventory.replace(tx, device.id, apps, new Date());
    },
  };
}

/** A result's plist as the XML stored, or why XML cannot carry it. */
type EncodedAnswer = { xml: string } | { unwritable: string };

function encodeAnswer(result: CommandResult): EncodedAnswer {
  try {
    return { xml: toXmlPlist(result.raw) };
  } catch (err) {
    if (err instanceof PlistWriteError) return { unwritable: err.message };
    throw err;
  }
}

/** The scalar values of a device's answer (reals and big integers as numbers, dates as text); data and nested values left out. */
function reportedScalars(dict: PlistDict): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(dict)) {
    const scalar =
      typeof v === 'string' ||
      typeof v === 'number' ||
      typeof v === 'boolean' ||
      typeof v === 'bigint' ||
      v instanceof PlistReal ||
      v instanceof Date;
    if (scalar) out[k] = plistToJson(v);
  }
  return out;
}
