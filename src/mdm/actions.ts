// Admin actions on devices (MobileIron's v2 device actions), the raw command queue for QA, and
// the admin's views of a device's queue and pushes.
import type { DeviceRow } from '../devices/index.js';
import { enrollmentProfileIdentifier } from '../enrollment/index.js';
import { yieldToEventLoop } from '../lib/slices.js';
import {
  clearPasscodeCommand,
  deviceInformationCommand,
  deviceLockCommand,
  enabledSetting,
  encodeCommand,
  eraseDeviceCommand,
  installedApplicationListCommand,
  rawCommand,
  removeProfileCommand,
  scheduleOsUpdateCommand,
  settingsCommand,
  type MdmCommand,
} from '../lib/mdm-protocol/index.js';
import { parseKnownState } from '../lib/mdm-reconcile/index.js';
import type { PlistDict } from '../lib/plist/index.js';
import { requireRead, requireWrite, type Actor } from '../platform/auth/actor.js';
import type { Db, DbTx } from '../platform/db/client.js';
import { DomainError } from '../platform/errors/index.js';
import type { AuditTrail, CommandRecords, DeviceRecords, IdentityCheck, PushRecords } from './ports.js';
import type { PushProvider } from './push.js';
import type { CommandQueue } from './queue.js';
import type { Reconciler } from './reconciler.js';
import type { Retirement } from './retirement.js';

/** The device actions by mockiron's own names (its audit entries are `device.<name in lower case>`). */
export const deviceActions = [
  'WAKEUP',
  'LOCK',
  'UNLOCK_DEVICE_ONLY',
  'SEND_MESSAGE',
  'UPDATE_DEVICE_INFO',
  'WIPE',
  'ENABLE_VOICE_ROAMING',
  'DISABLE_VOICE_ROAMING',
  'ENABLE_DATA_ROAMING',
  'DISABLE_DATA_ROAMING',
  'ENABLE_PERSONAL_HOTSPOT',
  'DISABLE_PERSONAL_HOTSPOT',
  'UPDATE_OS',
  'UNLOCK_APP_CONNECT_CONTAINER',
  // Last: the one action that can change a device's state (tests run the list in order).
  'RETIRE',
] as const;
export type DeviceAction = (typeof deviceActions)[number];

/** Core's name where it differs from ours; answers carry Core's name. LOCK is ours (Core's v2 has no lock action type). */
const coreNames: Partial<Record<DeviceAction, string>> = { WAKEUP: 'WAKE_UP', WIPE: 'WIPE_DEVICE' };
export const coreActionType = (action: DeviceAction): string => coreNames[action] ?? action;

/** Every accepted `actionType`: Core's names first, then mockiron's older names as aliases. */
export const actionTypeNames = [...new Set([...deviceActions.map(coreActionType), ...deviceActions])] as [string, ...string[]];

/** The action an accepted `actionType` names (Core's name or our alias). */
export function actionOfType(actionType: string): DeviceAction {
  const action = deviceActions.find((a) => a === actionType || coreActionType(a) === actionType);
  if (!action) throw DomainError.validation('actionType', `must be one of ${actionTypeNames.join(', ')}`);
  return action;
}

/** How SEND_MESSAGE reaches the user in Core: push notification through the client app, SMS or email. */
export const messageModes = ['pns', 'sms', 'email'] as const;
export type MessageMode = (typeof messageModes)[number];

export interface ActionOptions {
  note?: string;
  message?: string;
  pin?: string;
  mode?: MessageMode;
  subject?: string;
}

/** What each action does, for the listing of action types. */
export const actionDescriptions: Record<DeviceAction, { platforms: string[]; does: string }> = {
  WAKEUP: {
    platforms: ['iOS'],
    does: "Core's Force Device Check-in: DeviceInformation and InstalledApplicationList (details and app inventory refreshed), and an MDM push",
  },
  LOCK: { platforms: ['iOS'], does: 'DeviceLock (optional message on the lock screen); mockiron extension' },
  UNLOCK_DEVICE_ONLY: { platforms: ['iOS'], does: "ClearPasscode with the device's UnlockToken" },
  SEND_MESSAGE: { platforms: ['iOS'], does: 'a notification to the user, recorded (pns, sms or email); no MDM command' },
  UPDATE_DEVICE_INFO: { platforms: ['iOS'], does: 'DeviceInformation and InstalledApplicationList' },
  WIPE: { platforms: ['iOS'], does: 'EraseDevice' },
  RETIRE: { platforms: ['iOS'], does: 'RemoveProfile of what mockiron installed, then of the MDM profile' },
  ENABLE_VOICE_ROAMING: { platforms: ['iOS'], does: 'Settings VoiceRoaming Enabled=true' },
  DISABLE_VOICE_ROAMING: { platforms: ['iOS'], does: 'Settings VoiceRoaming Enabled=false' },
  ENABLE_DATA_ROAMING: { platforms: ['iOS'], does: 'Settings DataRoaming Enabled=true' },
  DISABLE_DATA_ROAMING: { platforms: ['iOS'], does: 'Settings DataRoaming Enabled=false' },
  ENABLE_PERSONAL_HOTSPOT: { platforms: ['iOS'], does: 'Settings PersonalHotspot Enabled=true' },
  DISABLE_PERSONAL_HOTSPOT: { platforms: ['iOS'], does: 'Settings PersonalHotspot Enabled=false' },
  UPDATE_OS: { platforms: ['iOS'], does: 'ScheduleOSUpdate (InstallAction Default)' },
  UNLOCK_APP_CONNECT_CONTAINER: {
    platforms: ['Android'],
    does: 'refused per device (NOT_SUPPORTED): an Android AppConnect feature, no iOS MDM command exists',
  },
};

export interface ActionResult {
  deviceUuid: string;
  status: 'SUCCESS' | 'FAILED';
  /** Why a device was refused, for clients to act on without parsing the message. */
  reason?: RefusalReason;
  message: string;
  commandUuids?: string[];
}

/** Why an action was refused for a device (the `reason` of its per-device result). */
export const refusalReasons = ['NOT_FOUND', 'NOT_ENROLLED', 'NO_IDENTITY', 'RETIRED', 'WIPED', 'NO_UNLOCK_TOKEN', 'NOT_SUPPORTED'] as const;
export type RefusalReason = (typeof refusalReasons)[number];
type Reach = 'REACHABLE' | Extract<RefusalReason, 'NOT_ENROLLED' | 'NO_IDENTITY' | 'RETIRED' | 'WIPED'>;

type ActionPlan =
  | { kind: 'send'; message: string; commands: MdmCommand[]; cancelPending?: boolean }
  | { kind: 'retire-now'; message: string }
  | { kind: 'notify'; message: string; notification: { mode: MessageMode; subject: string | null; message: string } }
  | { kind: 'refuse'; reason: RefusalReason; message: string };

const send = (message: string, commands: MdmCommand[]): ActionPlan => ({ kind: 'send', message, commands });
const refuse = (reason: RefusalReason, message: string): ActionPlan => ({ kind: 'refuse', reason, message });

/** What refreshes the device's details and its app inventory (GET devices/appinventory). */
const refreshCommands = (): MdmCommand[] => [deviceInformationCommand({}), installedApplicationListCommand({})];

const setting = (item: 'VoiceRoaming' | 'DataRoaming' | 'PersonalHotspot', enabled: boolean): ActionPlan =>
  send(`Settings ${item} ${enabled ? 'on' : 'off'} queued`, [settingsCommand({ settings: [enabledSetting(item, enabled)] })]);

const appConnectRefusal = refuse(
  'NOT_SUPPORTED',
  'UNLOCK_APP_CONNECT_CONTAINER unlocks an Android AppConnect container; no iOS MDM command does this',
);

const unreachable: Record<Exclude<Reach, 'REACHABLE'>, string> = {
  NOT_ENROLLED:
    'the device is not enrolled in MDM (no push token: it never finished enrolling, or began a new enrollment), so it cannot receive commands',
  NO_IDENTITY: "the device's MDM identity certificate is revoked or expired, so it cannot receive commands",
  RETIRED: 'the device is RETIRED, so it cannot receive commands',
  WIPED: 'the device is WIPED, so it cannot receive commands',
};

/** The options each action takes: any other is refused rather than silently dropped. */
type OptionName = 'message' | 'pin' | 'mode' | 'subject';
const actionOptionNames: Record<DeviceAction, ReadonlyArray<OptionName>> = {
  WAKEUP: [],
  LOCK: ['message'],
  UNLOCK_DEVICE_ONLY: [],
  SEND_MESSAGE: ['message', 'mode', 'subject'],
  UPDATE_DEVICE_INFO: [],
  WIPE: ['pin'],
  RETIRE: [],
  ENABLE_VOICE_ROAMING: [],
  DISABLE_VOICE_ROAMING: [],
  ENABLE_DATA_ROAMING: [],
  DISABLE_DATA_ROAMING: [],
  ENABLE_PERSONAL_HOTSPOT: [],
  DISABLE_PERSONAL_HOTSPOT: [],
  UPDATE_OS: [],
  UNLOCK_APP_CONNECT_CONTAINER: [],
};

function checkActionOptions(action: DeviceAction, o: ActionOptions): void {
  for (const name of ['message', 'pin', 'mode', 'subject'] as const) {
    if (o[name] !== undefined && !actionOptionNames[action].includes(name))
      throw DomainError.validation(name, `${action} does not take a ${name}`);
  }
  if (action === 'SEND_MESSAGE' && !o.message?.trim()) throw DomainError.validation('message', 'SEND_MESSAGE needs a message');
}

export function commandView(c: {
  commandUuid: string;
  requestType: string;
  status: string;
  origin: string;
  purpose: string | null;
  queuedAt: Date;
  sentAt: Date | null;
  completedAt: Date | null;
  attempts: number;
  errorChain: string | null;
  result: string | null;
}) {
  return {
    commandUuid: c.commandUuid,
    requestType: c.requestType,
    status: c.status,
    origin: c.origin,
    purpose: c.purpose,
    queuedAt: c.queuedAt.toISOString(),
    sentAt: c.sentAt?.toISOString() ?? null,
    completedAt: c.completedAt?.toISOString() ?? null,
    attempts: c.attempts,
    errorChain: c.errorChain ? (JSON.parse(c.errorChain) as unknown) : null,
    result: c.result,
  };
}

export class MdmActions {
  constructor(
    private readonly db: Db,
    private readonly devices: Pick<DeviceRecords, 'findByUuid'>,
    private readonly commands: Pick<CommandRecords, 'findByUuid' | 'cancel' | 'cancelAllPending' | 'list' | 'count'>,
    private readonly pushes: PushRecords,
    private readonly queue: Pick<CommandQueue, 'create'>,
    private readonly identities: IdentityCheck,
    private readonly reconciler: Pick<Reconciler, 'needsReconcile' | 'reconcile'>,
    private readonly retirement: Pick<Retirement, 'retire'>,
    private readonly push: PushProvider,
    /** Opens a sealed UnlockToken (base64). */
    private readonly openUnlockToken: (sealed: string) => string,
    private readonly audit: AuditTrail,
  ) {}

  /** MDM facts for a device's details: enrollment, push and queue state (never tokens). */
  async detailsFor(device: DeviceRow): Promise<Record<string, string | null>> {
    const [lastPush, pushes, pending] = await Promise.all([
      this.pushes.latest(this.db, device.id),
      this.pushes.count(this.db, device.id),
      this.commands.count(this.db, device.id, 'Queued'),
    ]);
    return {
      'mdm.enrolled_at': device.enrolledAt?.toISOString() ?? null,
      'mdm.topic': device.topic,
      'mdm.push_token_present': String(Boolean(device.pushToken)),
      'mdm.push_count': String(pushes),
      'mdm.last_push_at': lastPush?.at.toISOString() ?? null,
      'mdm.last_push_reason': lastPush?.reason ?? null,
      'mdm.last_push_outcome': lastPush ? `${lastPush.outcome} (${lastPush.provider})` : null,
      'mdm.queued_commands': String(pending),
    };
  }

  async listPushes(actor: Actor, uuid: string, page: { limit: number; offset: number }) {
    requireRead(actor);
    const device = await this.devices.findByUuid(this.db, uuid);
    if (!device) throw DomainError.notFound('Device', uuid);
    const [rows, total] = await Promise.all([this.pushes.list(this.db, device.id, page), this.pushes.count(this.db, device.id)]);
    return { total, results: rows.map((r) => ({ at: r.at.toISOString(), reason: r.reason, provider: r.provider, outcome: r.outcome })) };
  }

  async listCommands(actor: Actor, uuid: string, page: { limit: number; offset: number }, status?: string) {
    requireRead(actor);
    const device = await this.devices.findByUuid(this.db, uuid);
    if (!device) throw DomainError.notFound('Device', uuid);
    // The admin view is current: bring the queue in line first.
    if (device.status === 'ACTIVE' && this.reconciler.needsReconcile(device.id)) await this.reconciler.reconcile(device.id);
    const [rows, total] = await Promise.all([
      this.commands.list(this.db, device.id, page, status),
      this.commands.count(this.db, device.id, status),
    ]);
    return { total, results: rows.map(commandView) };
  }

  async enqueueRaw(actor: Actor, uuid: string, requestType: string, fields: PlistDict) {
    requireWrite(actor);
    let built;
    try {
      built = rawCommand(requestType, fields);
    } catch (err) {
      throw new DomainError('mdm.command', (err as Error).message, {
        field: (err as { field?: string }).field ?? 'RequestType',
      });
    }
    const row = await this.db.$transaction(async (tx) => {
      const device = await this.devices.findByUuid(tx, uuid);
      if (!device) throw DomainError.notFound('Device', uuid);
      const created = await this.queue.create(tx, {
        commandUuid: built.command.CommandUUID,
        deviceRef: device.id,
        requestType,
        body: encodeCommand(built.command).toString('utf8'),
        origin: 'admin',
        purpose: null,
      });
      await this.audit.record(tx, {
        actor: actor.username,
        action: 'command.enqueue',
        objectType: 'device',
        objectId: uuid,
        details: { requestType, commandUuid: created.commandUuid },
      });
      return { created, device };
    });
    // Wake the device for it (with APNs this only queues the push: the answer does not wait).
    await this.push.push(row.device, 'command');
    return { ...commandView(row.created), warnings: built.warnings };
  }

  async cancel(actor: Actor, uuid: string, commandUuid: string) {
    requireWrite(actor);
    return this.db.$transaction(async (tx) => {
      const device = await this.devices.findByUuid(tx, uuid);
      if (!device) throw DomainError.notFound('Device', uuid);
      const cmd = await this.commands.findByUuid(tx, device.id, commandUuid);
      if (!cmd) throw DomainError.notFound('Command', commandUuid);
      if (cmd.status !== 'Queued' && cmd.status !== 'NotNow') {
        throw new DomainError('mdm.notQueued', `Command ${commandUuid} is ${cmd.status}; only queued commands can be cancelled`);
      }
      await this.commands.cancel(tx, device.id, [commandUuid]);
      await this.audit.record(tx, {
        actor: actor.username,
        action: 'command.cancel',
        objectType: 'device',
        objectId: uuid,
        details: { commandUuid },
      });
      return { commandUuid, status: 'Canceled' };
    });
  }

  /**
   * MobileIron-style device actions, per device. What happens to each device (commands queued,
   * retired at once, or refused with a reason) is decided by one rule, `actionPlan`, from where
   * the device stands; it is applied and audited in one transaction, whatever the outcome, and the
   * device is pushed once its commands are committed.
   */
  async action(actor: Actor, action: DeviceAction, uuids: string[], options: ActionOptions = {}): Promise<ActionResult[]> {
    requireWrite(actor);
    checkActionOptions(action, options);
    const results: ActionResult[] = [];
    for (const uuid of [...new Set(uuids)]) {
      // Up to 1,000 devices a request: other requests and timers run between two devices
      // (awaiting the database alone resolves promises, which never lets I/O in).
      await yieldToEventLoop();
      const { device, plan } = await this.db.$transaction(async (tx) => {
        const device = await this.devices.findByUuid(tx, uuid);
        const plan = device
          ? this.actionPlan(action, device, await this.reachOf(tx, device), options)
          : refuse('NOT_FOUND', `Device ${uuid} not found`);
        if (device) await this.applyPlan(tx, device, plan);
        await this.audit.record(tx, {
          actor: actor.username,
          action: `device.${action.toLowerCase()}`,
          objectType: 'device',
          objectId: uuid,
          details: {
            outcome: plan.kind === 'refuse' ? 'FAILED' : 'SUCCESS',
            ...(plan.kind === 'refuse' ? { reason: plan.reason, message: plan.message } : {}),
            ...(device ? { deviceStatus: device.status } : {}),
            ...(plan.kind === 'retire-now' ? { newStatus: 'RETIRED' } : {}),
            ...(plan.kind === 'notify' ? { notification: plan.notification } : {}),
            ...(plan.kind === 'send'
              ? { commands: plan.commands.map((c) => c.Command.RequestType), commandUuids: plan.commands.map((c) => c.CommandUUID) }
              : {}),
            ...(options.note !== undefined ? { note: options.note } : {}),
          },
        });
        return { device, plan };
      });
      if (plan.kind === 'refuse') {
        results.push({ deviceUuid: uuid, status: 'FAILED', reason: plan.reason, message: plan.message });
      } else if (plan.kind === 'retire-now' || plan.kind === 'notify') {
        results.push({ deviceUuid: uuid, status: 'SUCCESS', message: plan.message, commandUuids: [] });
      } else {
        const pushed = await this.push.push(device!, action.toLowerCase());
        results.push({
          deviceUuid: uuid,
          status: 'SUCCESS',
          message: `${plan.message}; push ${pushed.outcome}`,
          commandUuids: plan.commands.map((c) => c.CommandUUID),
        });
      }
    }
    return results;
  }

  private async applyPlan(tx: DbTx, device: DeviceRow, plan: ActionPlan): Promise<void> {
    if (plan.kind === 'send') {
      if (plan.cancelPending) await this.commands.cancelAllPending(tx, device.id);
      for (const c of plan.commands) {
        await this.queue.create(tx, {
          commandUuid: c.CommandUUID,
          deviceRef: device.id,
          requestType: c.Command.RequestType,
          body: encodeCommand(c).toString('utf8'),
          origin: 'action',
          purpose: null,
        });
      }
    } else if (plan.kind === 'retire-now') {
      await this.retirement.retire(tx, device, 'retired by an admin (the device could not receive commands)');
    }
  }

  /**
   * Whether commands can reach a device: it completed an MDM enrollment (TokenUpdate gave its push
   * token; a new Authenticate clears it), still holds a valid identity to authenticate its polls
   * with, and is not RETIRED or WIPED. The other statuses an admin may set (LOST, BLOCKED, …)
   * leave an enrolled device reachable, as in Core, where a lost device is locked or wiped.
   */
  private async reachOf(tx: DbTx, device: DeviceRow): Promise<Reach> {
    if (device.status === 'RETIRED' || device.status === 'WIPED') return device.status;
    if (!device.pushToken) return 'NOT_ENROLLED';
    return (await this.identities.hasUsableIdentity(tx, device.id)) ? 'REACHABLE' : 'NO_IDENTITY';
  }

  /** The one rule: what an action does to a device, from where the device stands. */
  private actionPlan(action: DeviceAction, device: DeviceRow, reach: Reach, o: ActionOptions): ActionPlan {
    // Core unlocks the AppConnect container of its Android client; iOS MDM has no such command, so
    // every device is refused, whatever its state.
    if (action === 'UNLOCK_APP_CONNECT_CONTAINER') return appConnectRefusal;
    if (reach !== 'REACHABLE') {
      // Retiring is the one action that makes sense for a device commands cannot reach: it
      // becomes RETIRED at once (identity revoked, anything queued canceled), which closes a
      // registration that never enrolled. Every other action is refused for that device.
      if (action === 'RETIRE' && reach !== 'RETIRED') return { kind: 'retire-now', message: `retired at once: ${unreachable[reach]}` };
      return refuse(reach, action === 'RETIRE' ? 'the device is already RETIRED' : unreachable[reach]);
    }
    return this.commandPlans[action](device, o);
  }

  /** What each action sends to a device commands can reach. */
  private readonly commandPlans: Record<DeviceAction, (device: DeviceRow, o: ActionOptions) => ActionPlan> = {
    // Core's Force Device Check-in syncs the device: its details and app inventory come back fresh.
    WAKEUP: () => send('check-in requested: DeviceInformation and InstalledApplicationList queued', refreshCommands()),
    LOCK: (_d, o) => send('DeviceLock queued', [deviceLockCommand({ ...(o.message ? { message: o.message } : {}) })]),
    UNLOCK_DEVICE_ONLY: (d) =>
      d.unlockToken
        ? send('ClearPasscode queued', [clearPasscodeCommand({ unlockToken: Buffer.from(this.openUnlockToken(d.unlockToken), 'base64') })])
        : refuse('NO_UNLOCK_TOKEN', 'the device never sent an UnlockToken, so its passcode cannot be cleared'),
    // In Core a message is a notification to the user (client app push, SMS or email), never a lock:
    // mockiron records it in the audit trail and queues nothing.
    SEND_MESSAGE: (_d, o) => {
      const mode = o.mode ?? 'pns';
      return {
        kind: 'notify',
        message: `notification to the user recorded (${mode})`,
        notification: { mode, subject: o.subject || null, message: o.message! },
      };
    },
    UPDATE_DEVICE_INFO: () => send('DeviceInformation and InstalledApplicationList queued', refreshCommands()),
    WIPE: (_d, o) => send('EraseDevice queued', [eraseDeviceCommand({ ...(o.pin ? { pin: o.pin } : {}) })]),
    RETIRE: (d) => {
      // Remove what we installed, then the MDM profile itself; the device answers with CheckOut.
      const known = parseKnownState(d.mdmState);
      const commands = [
        ...(known.vpnProfile ? [removeProfileCommand({ identifier: known.vpnProfile.identifier })] : []),
        removeProfileCommand({ identifier: enrollmentProfileIdentifier(d.uuid) }),
      ];
      return { ...send('retire queued (profiles removed, then the MDM profile)', commands), cancelPending: true };
    },
    ENABLE_VOICE_ROAMING: () => setting('VoiceRoaming', true),
    DISABLE_VOICE_ROAMING: () => setting('VoiceRoaming', false),
    ENABLE_DATA_ROAMING: () => setting('DataRoaming', true),
    DISABLE_DATA_ROAMING: () => setting('DataRoaming', false),
    ENABLE_PERSONAL_HOTSPOT: () => setting('PersonalHotspot', true),
    DISABLE_PERSONAL_HOTSPOT: () => setting('PersonalHotspot', false),
    UPDATE_OS: () => send('ScheduleOSUpdate queued', [scheduleOsUpdateCommand({})]),
    UNLOCK_APP_CONNECT_CONTAINER: () => appConnectRefusal,
  };
}

/** Core's message key for a device the action succeeded for. */
export const actionSuccessfulKey = 'com.mobileiron.vsp.messages.device.action.successful';
/** A refused device's key: Core's failure key followed by our reason, e.g. `…device.action.failed.NOT_ENROLLED`. */
export const actionFailedKey = (reason: RefusalReason) => `com.mobileiron.vsp.messages.device.action.failed.${reason}`;

/**
 * Core's v2 action answer: `deviceResults` maps each device to a message key, `successful` is true
 * only when every device succeeded; `results` keeps mockiron's per-device detail (clients ignore it).
 */
export function coreActionAnswer(action: DeviceAction, results: ActionResult[]) {
  return {
    actionType: coreActionType(action),
    deviceResults: Object.fromEntries(
      results.map((r) => [r.deviceUuid, r.status === 'SUCCESS' ? actionSuccessfulKey : actionFailedKey(r.reason ?? 'NOT_FOUND')]),
    ),
    successful: results.every((r) => r.status === 'SUCCESS'),
    results,
  };
}
