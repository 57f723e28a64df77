// MobileIron Core's v1 API ("Web Service API") over the v2 services: devices, labels, users and
// the mdm actions answer here in Core's v1 shapes. Shapes from the clients that read them:
// splunk-soar-connectors/mobileiron (v1 device fields, `devices.device` an object when there is
// one), Kraktorist/PSMobileIron and mjdibella/MICore.PSHelper (docs/research/core-clients.md E, F, H).
import { requireWrite, type Actor } from '../platform/auth/actor.js';
import { DomainError } from '../platform/errors/index.js';
import { quoteString } from '../lib/criteria/lexer.js';
import { DEVICE_STATUSES } from '../lib/criteria/fields.js';
import type { FieldMap, V1Action, V1Actions, V1Devices, V1Label, V1Labels, V1Users } from './ports.js';

/** Core's device statuses and their v1 status codes (Core v1 Device Management page). */
export const v1StatusCodes = {
  ACTIVE: 97,
  BLOCKED: 98,
  IENROLL_VERIFIED: 100,
  IENROLL_INPROGRESS: 101,
  IENROLL_COMPLETE: 102,
  INFECTED: 105,
  LOST: 108,
  VERIFICATION_PENDING: 112,
  RETIRED: 114,
  RETIRE_PENDING: 117,
  VERIFIED: 118,
  WIPED: 119,
  EXPIRED: 120,
} as const;
export type V1Status = keyof typeof v1StatusCodes;
export const v1Statuses = Object.keys(v1StatusCodes) as [V1Status, ...V1Status[]];

/** The bit Core's compliance and quarantine bitmaps use for a reason it cannot name. */
const unknownReasonBit = 0x400000;
/** Core's reason bits (Reporting DB "Array Value Enumerations"), for the reasons the v2 fields name. */
const reasonBits: Record<string, number> = {
  COMPROMISED: 0x1,
  OS_VERSION: 0x2,
  HW_VERSION: 0x4,
  DATA_PROTECTION: 0x8,
  POLICY_OUT_OF_DATE: 0x10,
  DEVICE_OUT_OF_CONTACT: 0x20,
  APP_CONTROL: 0x40,
  PER_MAILBOX_LIMIT: 0x80,
  AUTO_BLOCK: 0x100,
  MANUAL: 0x200,
  EXCHANGE: 0x400,
  DEVICE_ADMIN_DEACTIVE: 0x800,
  DISALLOWED_APP_CONTROL: 0x1000,
  REQUIRED_APP_CONTROL: 0x2000,
  ALLOWED_APP_CONTROL: 0x4000,
  LOGGED_OUT: 0x8000,
};

/** A bitmap from a reasons list when the fields carry one; else "unknown" for a bad state, 0 for a good one. */
function bitmap(ok: unknown, reasons: unknown): number {
  if (Array.isArray(reasons) && reasons.length > 0)
    return reasons.reduce<number>((bits, r) => bits | (reasonBits[String(r)] ?? unknownReasonBit), 0);
  return ok ? 0 : unknownReasonBit;
}

const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/** Core v1's platform type names [I]: what its XML used for iOS and Android devices. */
const platformTypes: Record<string, string> = { iOS: 'IPHONE', Android: 'ANDROID' };

/** One device in Core's v1 shape, from its v2 fields; what mockiron does not know is null. */
export function v1Device(f: FieldMap, details?: Array<{ name: string; value: string | null }>) {
  const platform = str(f['common.platform']);
  const osVersion = str(f['common.os_version']);
  const email = str(f['user.email_address']);
  const status = str(f['common.status']) ?? 'VERIFICATION_PENDING';
  const entries =
    details ?? Object.entries(f).map(([name, value]) => ({ name, value: Array.isArray(value) ? value.join(',') : str(value) }));
  return {
    '@id': str(f['common.id']),
    uuid: str(f['common.uuid']),
    principal: str(f['user.user_id']),
    userId: str(f['user.user_id']),
    userUUID: null,
    userDisplayName: str(f['user.display_name']),
    userFirstName: null,
    userLastName: null,
    emailAddress: email,
    emailDomain: email?.includes('@') ? email.slice(email.lastIndexOf('@') + 1) : null,
    userSource: null,
    platform: str(f['common.platform_name']) ?? (platform ? [platform, osVersion].filter(Boolean).join(' ') : null),
    platformType: platform ? (platformTypes[platform] ?? platform.toUpperCase()) : null,
    manufacturer: str(f['common.manufacturer']),
    model: str(f['common.model']),
    name: str(f['ios.DeviceName']),
    status,
    statusCode: v1StatusCodes[status as V1Status] ?? null,
    compliance: bitmap(f['common.compliant'], f['common.noncompliance_reasons']),
    quarantinedStatus: f['common.quarantined'] ? bitmap(false, f['common.quarantined_reasons']) : 0,
    blockReason: 0,
    employeeOwned: f['common.owner'] === 'EMPLOYEE',
    mdmManaged: typeof f['common.mdm_managed'] === 'boolean' ? f['common.mdm_managed'] : status === 'ACTIVE',
    registeredAt: str(f['common.registration_date']),
    lastConnectedAt: str(f['common.last_connected_at']),
    currentPhoneNumber: str(f['common.current_phone_number']),
    operator: str(f['common.current_operator_name']),
    homeOperator: str(f['common.home_operator_name']),
    countryName: str(f['common.current_country_name']),
    countryCode: str(f['common.current_country_code']),
    serialNumber: str(f['common.SerialNumber']),
    imei: str(f['common.imei']),
    wifiMacAddress: str(f['common.wifi_mac_address']),
    osVersion,
    // Entries by key, as MICore.PSHelper reads them: `platform` (iOS/Android) first, then every v2 field.
    details: { entry: [{ key: 'platform', value: platform }, ...entries.map((e) => ({ key: e.name, value: e.value }))] },
  };
}
export type V1Device = ReturnType<typeof v1Device>;

/** Core v1 answers one record as an object and several as an array (its XML read as JSON); clients take both. */
export function oneOrMany<T>(items: T[]): T | T[] {
  return items.length === 1 ? items[0]! : items;
}

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/** Core v1's message object: the text clients print from `messages.message`. */
const messages = (message: string) => ({ message });

/** v1's answer when nothing matches: Core says 404 with a message (PSMobileIron treats that 404 as "none"). */
const noDevices = (what: string) => DomainError.notFound('Devices', what);

/** Normalises a Wi-Fi MAC to lower-case, colon-separated pairs (a4:83:e7:12:34:56), the form devices report. */
export function normaliseMac(mac: string): string {
  const hex = mac.replace(/[:-]/g, '').toLowerCase();
  return hex.match(/../g)!.join(':');
}

/** Most devices one v1 listing answers: Core v1 has no hard limit that is documented; ours keeps an answer bounded. */
export const v1ListMax = 10_000;

export class CoreV1Service {
  constructor(
    private readonly devices: V1Devices,
    private readonly labels: V1Labels,
    private readonly users: V1Users,
    private readonly mdm: V1Actions,
  ) {}

  private async search(actor: Actor, query: string | undefined, page = { limit: v1ListMax, offset: 0 }, labelId?: number) {
    return this.devices.list(actor, { ...(query ? { query } : {}), ...(labelId ? { labelId } : {}), page, order: 'asc' });
  }

  /** A device list in v1's shape; 404 when nothing matches at all (a page past the end is an empty 200). */
  private listAnswer(found: { total: number; results: FieldMap[] }, what: string) {
    if (found.total === 0) throw noDevices(what);
    return {
      messages: messages(`${plural(found.results.length, 'device')} returned.`),
      devices: { device: oneOrMany(found.results.map((f) => v1Device(f))) },
      totalCount: found.total,
    };
  }

  async devicesByStatus(actor: Actor, status: V1Status, page: { limit: number; offset: number }) {
    // Core's enrollment-flow statuses (IENROLL_*, INFECTED, …) are never a mockiron device's: none match.
    if (!(DEVICE_STATUSES as readonly string[]).includes(status)) throw noDevices(`with status ${status}`);
    const found = await this.search(actor, `common.status = ${quoteString(status)}`, page);
    return this.listAnswer(found, `with status ${status}`);
  }

  async device(actor: Actor, uuid: string) {
    const details = await this.devices.details(actor, uuid);
    const fields = Object.fromEntries(details.map((d) => [d.name, d.value]));
    // details() gives every value as text; the typed fields come from the listing.
    const typed = await this.search(actor, `common.uuid = ${quoteString(uuid)}`, { limit: 1, offset: 0 });
    return { messages: messages('1 device returned.'), device: v1Device({ ...fields, ...typed.results[0] }, details), totalCount: 1 };
  }

  /**
   * The devices whose Wi-Fi MAC is `mac` (the criteria field common.wifi_mac_address), however it
   * was written down: with colons, dashes or bare (comparisons ignore case).
   */
  private async byMac(actor: Actor, mac: string): Promise<FieldMap[]> {
    const colons = normaliseMac(mac);
    const spellings = [colons, colons.replace(/:/g, '-'), colons.replace(/:/g, '')];
    const found = await this.search(actor, spellings.map((m) => `common.wifi_mac_address = ${quoteString(m)}`).join(' OR '));
    return found.results;
  }

  private async uuidOfMac(actor: Actor, mac: string): Promise<string> {
    const found = await this.byMac(actor, mac);
    // Several records can carry one MAC (a retired record and its re-registration): the latest is the device.
    const device = found.sort((a, b) => Number(b['common.id']) - Number(a['common.id']))[0];
    if (!device) throw DomainError.notFound('Device with Wi-Fi MAC', mac);
    return String(device['common.uuid']);
  }

  async deviceByMac(actor: Actor, mac: string) {
    return this.device(actor, await this.uuidOfMac(actor, mac));
  }

  async devicesOfPhone(actor: Actor, phone: string) {
    return this.listAnswer(await this.search(actor, `common.current_phone_number = ${quoteString(phone)}`), `with phone number ${phone}`);
  }

  async devicesOfUser(actor: Actor, userId: string) {
    return this.listAnswer(await this.search(actor, `user.user_id = ${quoteString(userId)}`), `of user ${userId}`);
  }

  private async labelNamed(actor: Actor, name: string): Promise<V1Label> {
    const key = name.toLowerCase();
    const label = (await this.labels.summary(actor)).find((l) => l.name.toLowerCase() === key);
    if (!label) throw DomainError.notFound('Label', name);
    return label;
  }

  async devicesInLabel(actor: Actor, labelName: string) {
    const label = await this.labelNamed(actor, labelName);
    return this.listAnswer(await this.search(actor, undefined, undefined, label.id), `in label ${label.name}`);
  }

  async allLabels(actor: Actor) {
    const labels = await this.labels.summary(actor);
    return { messages: messages(`${plural(labels.length, 'label')} returned.`), labels: { label: oneOrMany(labels.map(v1Label)) } };
  }

  async labelsOfDevice(actor: Actor, uuid: string) {
    const own = await this.devices.labelsOf(actor, uuid);
    const all = new Map((await this.labels.summary(actor)).map((l) => [l.id, l]));
    const labels = own.map((l) => all.get(Number(l.id)) ?? { ...l, id: Number(l.id), description: '', criteria: null });
    return { messages: messages(`${plural(labels.length, 'label')} returned.`), labels: { label: oneOrMany(labels.map(v1Label)) } };
  }

  /**
   * Applies (or removes) manual labels to devices, every label to every device. All names and
   * devices are checked first, so a bad one leaves nothing half applied.
   */
  async applyLabels(actor: Actor, labelNames: string[], uuids: string[], op: 'apply' | 'remove') {
    requireWrite(actor); // before any lookup: a viewer learns nothing from a write it may not make
    const all = await this.labels.summary(actor);
    const byKey = new Map(all.map((l) => [l.name.toLowerCase(), l]));
    const labels = [...new Set(labelNames)].map((name) => {
      const label = byKey.get(name.toLowerCase());
      if (!label) throw DomainError.notFound('Label', name);
      if (!label.isStatic)
        throw new DomainError(
          'label.notManual',
          `${label.name} is a filter or system label: its members are computed, not applied by hand`,
        );
      return label;
    });
    const devices = [...new Set(uuids)];
    for (const uuid of devices) await this.devices.details(actor, uuid); // not-found before anything is written
    for (const label of labels) await this.labels.apply(actor, label.name, devices, op === 'apply' ? 'add' : 'remove');
    const verb = op === 'apply' ? 'applied to' : 'removed from';
    return { messages: messages(`${plural(labels.length, 'label')} ${verb} ${plural(devices.length, 'device')}.`) };
  }

  /** lock, unlock, wipe, retire of one device, with v1's `reason` kept as the action's note. */
  async act(actor: Actor, action: Exclude<V1Action, 'SEND_MESSAGE'>, target: { uuid: string } | { mac: string }, reason?: string) {
    requireWrite(actor);
    const uuid = 'uuid' in target ? target.uuid : await this.uuidOfMac(actor, target.mac);
    // A device that does not exist is a 404 before anything is recorded.
    await this.devices.details(actor, uuid);
    const [result] = await this.mdm.action(actor, action, [uuid], reason ? { note: reason } : {});
    return { messages: messages(`${uuid}: ${result!.message}`), successful: result!.status === 'SUCCESS', results: [result!] };
  }

  /** Core v1's bulk message: a notification recorded per device (SEND_MESSAGE), never a lock. */
  async sendMessage(
    actor: Actor,
    input: { mode: 'pns' | 'sms' | 'email'; message: string; subject?: string; uuids: string[]; macs: string[] },
  ) {
    requireWrite(actor);
    const uuids = [...input.uuids];
    for (const mac of input.macs) uuids.push(await this.uuidOfMac(actor, mac));
    if (uuids.length === 0) throw DomainError.validation('deviceUuid', 'name at least one device (deviceUuid or deviceWiFiMacAddress)');
    const results = await this.mdm.action(actor, 'SEND_MESSAGE', uuids, {
      message: input.message,
      mode: input.mode,
      ...(input.subject ? { subject: input.subject } : {}),
    });
    const sent = results.filter((r) => r.status === 'SUCCESS').length;
    return {
      messages: messages(`Message sent to ${plural(sent, 'device')} of ${results.length}.`),
      successful: sent === results.length,
      results,
    };
  }

  async user(actor: Actor, userId: string) {
    const u = await this.users.get(actor, userId);
    return {
      messages: messages('1 user returned.'),
      user: {
        '@id': String(u.id),
        principal: u.userId,
        userId: u.userId,
        displayName: u.displayName,
        firstName: null,
        lastName: null,
        emailAddress: u.email,
        userSource: 'LOCAL',
        createdAt: u.createdAt,
      },
    };
  }
}

function v1Label(l: Pick<V1Label, 'id' | 'name' | 'description' | 'isStatic' | 'isSystem' | 'criteria'> & { deviceCount?: number }) {
  return {
    '@id': String(l.id),
    id: l.id,
    name: l.name,
    description: l.description,
    // Core's label kinds: manual (static), filter (criteria), system (built in).
    type: l.isSystem ? 'SYSTEM' : l.isStatic ? 'MANUAL' : 'FILTER',
    isStatic: l.isStatic,
    criteria: l.criteria,
    deviceCount: l.deviceCount ?? null,
  };
}
