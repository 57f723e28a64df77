// What brings a device in line with its policy (pure; src/mdm applies it). The server remembers what the device
// holds (known state, updated when commands are acknowledged) and what is on its way
// (pending commands, each with a purpose "<slot>#<intent>"). For every slot — the VPN profile,
// and each app — it compares desired with known and pending, and plans:
//
// - VPN profile: install when missing or different (by content hash), remove when no VPN
//   reaches the device any more.
// - Apps: install newly assigned apps with their VPNUUID; rebind installed apps whose VPNUUID
//   changed with Settings/ApplicationAttributes; remove apps we installed that no longer reach
//   the device.
// - Never two pending commands for one slot: a pending command with the same intent is kept; one
//   with a different intent is cancelled and replaced. An intent that already failed (Error or
//   CommandFormatError) is not retried until the desired state changes.

export interface KnownState {
  vpnProfile?: { identifier: string; hash: string } | null;
  apps?: Record<string, { vpnUuid: string | null }>;
}

/** A device's known state as stored (JSON in its row); unreadable text reads as nothing known. */
export function parseKnownState(json: string): KnownState {
  try {
    return JSON.parse(json) as KnownState;
  } catch {
    return {};
  }
}

export interface DesiredState {
  vpnProfile: { identifier: string; hash: string } | null;
  apps: Array<{ bundleId: string; iTunesStoreId: string | null; vpnUuid: string | null }>;
}

export interface SlotCommand {
  commandUuid: string;
  purpose: string;
  status: 'Queued' | 'Sent' | 'NotNow' | 'Error' | 'CommandFormatError' | 'Acknowledged' | 'Canceled';
}

export type PlannedCommand =
  | { purpose: string; kind: 'install-profile'; identifier: string; hash: string }
  | { purpose: string; kind: 'remove-profile'; identifier: string }
  | { purpose: string; kind: 'install-app'; bundleId: string; iTunesStoreId: string | null; vpnUuid: string | null }
  | { purpose: string; kind: 'bind-app'; bundleId: string; vpnUuid: string | null }
  | { purpose: string; kind: 'remove-app'; bundleId: string };

export interface ReconcilePlan {
  enqueue: PlannedCommand[];
  /** Pending commands made obsolete by a different intent for the same slot. */
  cancel: string[];
}

export const vpnSlot = 'vpn-profile';
export const appSlot = (bundleId: string) => `app:${bundleId}`;
export const slotOf = (purpose: string) => purpose.split('#')[0]!;
export const intentOf = (purpose: string) => purpose.slice(purpose.indexOf('#') + 1);

/** Commands still on their way to the device. */
export const pendingCommandStatuses = ['Queued', 'Sent', 'NotNow'];
const pendingStatuses = new Set(pendingCommandStatuses);
const failedStatuses = new Set(['Error', 'CommandFormatError']);

export function planReconcile(known: KnownState, desired: DesiredState, commands: SlotCommand[]): ReconcilePlan {
  const enqueue: PlannedCommand[] = [];
  const cancel: string[] = [];
  const bySlot = new Map<string, SlotCommand[]>();
  for (const c of commands) {
    const slot = slotOf(c.purpose);
    bySlot.set(slot, [...(bySlot.get(slot) ?? []), c]);
  }

  /** Decide one slot: `want` is the intent and command wanted, or null for "nothing to do". */
  const decide = (slot: string, want: PlannedCommand | null) => {
    const mine = bySlot.get(slot) ?? [];
    const pending = mine.filter((c) => pendingStatuses.has(c.status));
    for (const p of pending) if (!want || p.purpose !== want.purpose) cancel.push(p.commandUuid);
    if (!want) return;
    if (pending.some((p) => p.purpose === want.purpose)) return;
    // the most recent finished command for this slot: a failure of the same intent blocks retries
    const last = mine.filter((c) => !pendingStatuses.has(c.status) && c.status !== 'Canceled').at(-1);
    if (last && failedStatuses.has(last.status) && last.purpose === want.purpose) return;
    enqueue.push(want);
  };

  // VPN profile
  const haveProfile = known.vpnProfile ?? null;
  const wantProfile = desired.vpnProfile;
  if (wantProfile && haveProfile?.hash !== wantProfile.hash) {
    decide(vpnSlot, {
      purpose: `${vpnSlot}#install:${wantProfile.hash}`,
      kind: 'install-profile',
      identifier: wantProfile.identifier,
      hash: wantProfile.hash,
    });
  } else if (!wantProfile && haveProfile) {
    decide(vpnSlot, { purpose: `${vpnSlot}#remove:${haveProfile.identifier}`, kind: 'remove-profile', identifier: haveProfile.identifier });
  } else {
    decide(vpnSlot, null);
  }

  // Apps
  const knownApps = known.apps ?? {};
  const wanted = new Map(desired.apps.map((a) => [a.bundleId, a]));
  const slots = new Set([...wanted.keys(), ...Object.keys(knownApps)]);
  for (const bundleId of [...slots].sort()) {
    const slot = appSlot(bundleId);
    const want = wanted.get(bundleId);
    const have = knownApps[bundleId];
    if (want && !have) {
      decide(slot, {
        purpose: `${slot}#install:${want.vpnUuid ?? 'none'}`,
        kind: 'install-app',
        bundleId,
        iTunesStoreId: want.iTunesStoreId,
        vpnUuid: want.vpnUuid,
      });
    } else if (want && have && have.vpnUuid !== want.vpnUuid) {
      decide(slot, { purpose: `${slot}#bind:${want.vpnUuid ?? 'none'}`, kind: 'bind-app', bundleId, vpnUuid: want.vpnUuid });
    } else if (!want && have) {
      decide(slot, { purpose: `${slot}#remove`, kind: 'remove-app', bundleId });
    } else {
      decide(slot, null);
    }
  }
  return { enqueue, cancel };
}

/** The known state after a command with this purpose was acknowledged. */
export function applyAcknowledged(known: KnownState, purpose: string, identifier?: string): KnownState {
  const slot = slotOf(purpose);
  const intent = intentOf(purpose);
  const next: KnownState = { vpnProfile: known.vpnProfile ?? null, apps: { ...(known.apps ?? {}) } };
  if (slot === vpnSlot) {
    if (intent.startsWith('install:'))
      next.vpnProfile = { identifier: identifier ?? next.vpnProfile?.identifier ?? '', hash: intent.slice('install:'.length) };
    else if (intent.startsWith('remove:')) next.vpnProfile = null;
  } else if (slot.startsWith('app:')) {
    const bundleId = slot.slice('app:'.length);
    const uuid = (s: string) => (s === 'none' ? null : s);
    if (intent.startsWith('install:')) next.apps![bundleId] = { vpnUuid: uuid(intent.slice('install:'.length)) };
    else if (intent.startsWith('bind:')) next.apps![bundleId] = { vpnUuid: uuid(intent.slice('bind:'.length)) };
    else if (intent === 'remove') delete next.apps![bundleId];
  }
  return next;
}
