// The fleet state file: every device's identity, MDM enrollment (identity key and certificate,
// push token), what it holds (profiles, apps) and its lock/erase state, so a fleet can be resumed.
// It holds private keys: written 0600, atomically (temp file + rename) so a crash or Ctrl-C in the
// middle of a write never leaves a half-written file behind.

import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { DeviceIdentity } from './identity.js';

export const STATE_FILE_VERSION = 1;

export type DeviceStatus =
  /** Not enrolled yet (or a failed enrollment to retry). */
  | 'new'
  | 'enrolled'
  /** The server stopped trusting it (401 on check-in/connect) or it removed its MDM profile. */
  | 'unenrolled'
  /** EraseDevice was acknowledged: everything else is gone and it no longer polls. */
  | 'erased';

export interface ProfilePayloadState {
  type: string;
  identifier: string;
  uuid?: string;
  displayName?: string;
  /** VPN payloads: the VPNUUID apps are bound to. */
  vpnUuid?: string;
  /** VPN payloads authenticating with a certificate: the PayloadUUID of the identity payload they name. */
  certificateUuid?: string;
}

/**
 * An identity a profile's com.apple.security.scep or com.apple.security.pkcs12 payload gave the
 * device: kept with that profile (by its identifier) under the payload's UUID, so replacing or
 * removing the profile replaces or removes it. The private key is why the state file is 0600.
 */
export interface ProfileIdentityState {
  payloadUuid: string;
  payloadIdentifier: string;
  source: 'scep' | 'pkcs12';
  /** PKCS#8 PEM. */
  privateKeyPem: string;
  certificatePem: string;
  obtainedAt: string;
  /** The VPN payloads of the same profile whose PayloadCertificateUUID names this identity. */
  vpns: { payloadUuid: string; vpnUuid?: string; name?: string }[];
}

export interface InstalledProfileState {
  identifier: string;
  uuid: string;
  displayName?: string;
  organization?: string;
  version?: number;
  /** Hex SHA-256 of the profile's signed content (the plist), to tell versions apart. */
  contentSha256: string;
  /** 'enrollment' is the MDM profile itself; removing it unenrolls the device. */
  source: 'mdm' | 'enrollment';
  /** Base64 DER of the signing certificate, reported in ProfileList's SignerCertificates. */
  signerCertificateDer?: string;
  installedAt: string;
  payloads: ProfilePayloadState[];
  /** Identities obtained from the profile's SCEP and PKCS#12 payloads, in payload order. */
  identities?: ProfileIdentityState[];
}

export interface InstalledAppState {
  /** Bundle id; "itunes:<id>" or the manifest URL when the command did not name one. */
  identifier: string;
  iTunesStoreId?: number;
  manifestUrl?: string;
  /** InstallApplication/Settings Attributes as sent (VPNUUID, AssociatedDomains, ...). */
  attributes: Record<string, unknown>;
  managementFlags?: number;
  hasConfiguration: boolean;
  installedAt: string;
}

export interface MdmEnrollmentState {
  serverUrl: string;
  checkInUrl: string;
  topic: string;
  signMessage: boolean;
  identitySource: 'scep' | 'pkcs12';
  /** PKCS#8 PEM: the device identity's private key. */
  identityKeyPem: string;
  identityCertificatePem: string;
  /** Base64 of the APNs token sent in TokenUpdate. */
  pushToken: string;
  pushMagic: string;
  unlockToken: string;
  enrolledAt: string;
}

export interface DeviceState {
  identity: DeviceIdentity;
  status: DeviceStatus;
  /** CA certificates the device trusts for signed profiles (server CA, enrollment root payloads). */
  trustAnchorsPem: string[];
  mdm?: MdmEnrollmentState;
  /** By PayloadIdentifier. */
  profiles: Record<string, InstalledProfileState>;
  /** By identifier. */
  apps: Record<string, InstalledAppState>;
  lock?: { lockedAt: string; message?: string; phoneNumber?: string };
  /** Settings the server changed (Settings DataRoaming/VoiceRoaming/PersonalHotspot), answered back in DeviceInformation. */
  network?: { dataRoaming?: boolean; voiceRoaming?: boolean; personalHotspot?: boolean };
  erasedAt?: string;
  /** Position of the device's NotNow random sequence, so a resumed run continues it. */
  rngState: number;
  pollCycles: number;
  lastError?: string;
  /** The latest CommandUUIDs answered with a final status, to catch a command delivered twice. */
  answeredCommands?: string[];
  /** Answers whose connection this device dropped (fault): the server may rightly send those again. */
  unconfirmedAnswers?: string[];
}

export interface FleetState {
  version: typeof STATE_FILE_VERSION;
  /** Server base URL the devices enrolled with. */
  server: string;
  seed: string;
  createdAt: string;
  updatedAt: string;
  devices: DeviceState[];
}

export class StateFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StateFileError';
  }
}

/** The state in `file`, or undefined when the file does not exist. */
export async function loadFleetState(file: string): Promise<FleetState | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StateFileError(`cannot read the state file ${file}: ${(err as Error).message}`);
  }
  let state: FleetState;
  try {
    state = JSON.parse(text) as FleetState;
  } catch (err) {
    throw new StateFileError(`the state file ${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (
    state?.version !== STATE_FILE_VERSION ||
    !Array.isArray(state.devices) ||
    typeof state.server !== 'string' ||
    typeof state.seed !== 'string'
  ) {
    throw new StateFileError(`${file} is not a simulator state file (version ${STATE_FILE_VERSION})`);
  }
  return state;
}

/** Writes the state to a private temp file next to `file`, flushes it, then renames it over `file`. */
export async function saveFleetState(file: string, state: FleetState): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(state, null, 2)}\n`, 'utf8');
    await handle.sync();
  } catch (err) {
    await handle.close();
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await handle.close();
  try {
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/**
 * Serialises saves of one file: a save requested while one is running is coalesced into the next
 * write, so frequent progress saves never interleave their renames or pile up.
 */
export class StateWriter {
  #running: Promise<void> = Promise.resolve();
  #pending = false;
  #soon: NodeJS.Timeout | undefined;

  constructor(
    readonly file: string,
    private readonly snapshot: () => FleetState,
  ) {}

  /**
   * A save within `delayMs`, for progress that happens many times a second (enrollments): a
   * large fleet's file is megabytes, and writing it after every event would starve the run.
   * A crash loses at most that much progress.
   */
  saveSoon(delayMs = 1000): void {
    if (this.#soon) return;
    this.#soon = setTimeout(() => {
      this.#soon = undefined;
      void this.save().catch(() => undefined);
    }, delayMs);
  }

  save(): Promise<void> {
    if (this.#soon) {
      clearTimeout(this.#soon);
      this.#soon = undefined;
    }
    if (this.#pending) return this.#running;
    this.#pending = true;
    this.#running = this.#running
      .catch(() => undefined)
      .then(async () => {
        this.#pending = false;
        await saveFleetState(this.file, this.snapshot());
      });
    return this.#running;
  }
}
