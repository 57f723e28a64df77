// What the MDM parts need from storage and from other capabilities, one interface per concern
// (in the manner of NanoMDM's storage interfaces). The Prisma implementations are in store.ts;
// unit tests use in-memory ones. Every operation takes the caller's transaction (or the client)
// first, so a part composes several of them in one transaction.
import type { AuditEntry } from '../audit/index.js';
import type { DeviceRow } from '../devices/index.js';
import type { ReportedFacts } from '../devices/index.js';
import type { DbTx } from '../platform/db/client.js';
import type { PushTarget } from './push.js';

export type { ReportedFacts };

/** What authentication tells about a device; the rest of its row is read when needed. */
export interface AuthenticatedDevice {
  id: number;
  uuid: string;
  udid: string | null;
}

/** The device rows, as MDM reads and writes them (the devices store owns the table). */
export interface DeviceRecords {
  identityById(tx: DbTx, id: number): Promise<AuthenticatedDevice | null>;
  findById(tx: DbTx, id: number): Promise<DeviceRow | null>;
  findByUuid(tx: DbTx, uuid: string): Promise<DeviceRow | null>;
  findByUdid(tx: DbTx, udid: string): Promise<DeviceRow | null>;
  /** A record for a device that enrolled with a certificate minted without one (Authenticate binds it). */
  createEnrolling(tx: DbTx, device: { uuid: string; udid: string }): Promise<DeviceRow>;
  /** Authenticate on a record without a UDID: it takes the UDID; `releasedBy`, an ended record that held it, gives it up. */
  assignUdid(tx: DbTx, id: number, udid: string, releasedBy: number | null): Promise<DeviceRow>;
  recordAuthenticate(tx: DbTx, id: number, facts: ReportedFacts & { topic: string }, at: Date): Promise<unknown>;
  recordTokenUpdate(
    tx: DbTx,
    id: number,
    data: { pushToken: string; pushMagic: string; topic: string; unlockToken?: string; enrolledAt: Date },
    at: Date,
  ): Promise<unknown>;
  recordSeen(tx: DbTx, id: number, at: Date): Promise<unknown>;
  recordInformation(tx: DbTx, id: number, facts: ReportedFacts): Promise<unknown>;
  setMdmState(tx: DbTx, id: number, mdmState: string): Promise<unknown>;
  markRetired(tx: DbTx, id: number): Promise<unknown>;
  markWiped(tx: DbTx, id: number): Promise<unknown>;
  activePushTargets(tx: DbTx, ids?: number[]): Promise<PushTarget[]>;
  unsealedUnlockTokens(tx: DbTx, sealedPrefix: string): Promise<Array<{ id: number; unlockToken: string }>>;
  setUnlockToken(tx: DbTx, id: number, sealed: string): Promise<unknown>;
}

/** A row of the command queue. */
export interface CommandRow {
  id: number;
  commandUuid: string;
  deviceRef: number;
  requestType: string;
  body: string;
  status: string;
  origin: string;
  purpose: string | null;
  result: string | null;
  errorChain: string | null;
  queuedAt: Date;
  sentAt: Date | null;
  completedAt: Date | null;
  attempts: number;
}

export interface NewCommand {
  commandUuid: string;
  deviceRef: number;
  requestType: string;
  body: string;
  origin: string;
  purpose: string | null;
}

/** The commands table (the in-memory pending index over it is CommandQueue). */
export interface CommandRecords {
  create(tx: DbTx, data: NewCommand): Promise<CommandRow>;
  findByUuid(tx: DbTx, deviceRef: number, commandUuid: string): Promise<CommandRow | null>;
  /** Every command that says something about reconciliation slots, oldest first. */
  withPurpose(tx: DbTx, deviceRef: number): Promise<Array<{ commandUuid: string; purpose: string | null; status: string }>>;
  /** Cancels those of `commandUuids` still pending. */
  cancel(tx: DbTx, deviceRef: number, commandUuids: string[]): Promise<unknown>;
  cancelAllPending(tx: DbTx, deviceRef: number): Promise<unknown>;
  /** On Idle: commands sent but never answered, and NotNow ones, become deliverable again. */
  requeue(tx: DbTx, deviceRef: number): Promise<unknown>;
  nextQueued(tx: DbTx, deviceRef: number): Promise<CommandRow | null>;
  markSent(tx: DbTx, id: number): Promise<unknown>;
  complete(tx: DbTx, id: number, data: { status: string; result: string; errorChain: string | null }): Promise<unknown>;
  list(tx: DbTx, deviceRef: number, page: { limit: number; offset: number }, status?: string): Promise<CommandRow[]>;
  count(tx: DbTx, deviceRef: number, status?: string): Promise<number>;
  /** The devices with a pending command (the queue's index starts from these). */
  devicesWithPending(tx: DbTx): Promise<number[]>;
}

export interface PushRow {
  at: Date;
  reason: string;
  provider: string;
  outcome: string;
}

/** Pushes recorded per device (written by the push provider). */
export interface PushRecords {
  record(tx: DbTx, push: { deviceRef: number; reason: string; provider: string; outcome: string }): Promise<unknown>;
  latest(tx: DbTx, deviceRef: number): Promise<PushRow | null>;
  count(tx: DbTx, deviceRef: number): Promise<number>;
  list(tx: DbTx, deviceRef: number, page: { limit: number; offset: number }): Promise<PushRow[]>;
}

/**
 * Device identity certificates, as MDM needs them. The names and signatures are those of
 * ScepService, which satisfies this today; the certificate registry will tomorrow.
 */
export interface DeviceCertificates {
  /** Moves whenever a certificate is bound or revoked: cached answers are stale. */
  readonly certificateGeneration: number;
  deviceForCertificate(fingerprintSha256: string): Promise<{ deviceRef: number | null; revoked: boolean; notAfter: Date } | null>;
  bindCertificate(fingerprintSha256: string, deviceRef: number, tx?: DbTx): Promise<boolean>;
  revokeDeviceCertificates(tx: DbTx, deviceRef: number, reason: string): Promise<{ revoked: string[] }>;
}

/** Whether a device still holds a valid identity to authenticate its polls with. */
export interface IdentityCheck {
  hasUsableIdentity(tx: DbTx, deviceRef: number): Promise<boolean>;
}

/** The audit log, as admin actions write it (in their transaction). */
export interface AuditTrail {
  record(tx: DbTx, entry: AuditEntry): Promise<unknown>;
}

/** An app as a device reported it in an InstalledApplicationList answer. */
export interface ReportedApp {
  identifier: string | null;
  name: string | null;
  version: string | null;
  shortVersion: string | null;
  bundleSize: number | null;
  /** Installed by this server's MDM (known from the device's reconciled state); null when not known. */
  managed: boolean | null;
}

/**
 * Where a device's app inventory goes: the inventory capability implements it, wired in
 * src/app/services.ts (MDM does not depend on it). The answer replaces the previous inventory.
 */
export interface AppInventoryRecords {
  replace(tx: DbTx, deviceRef: number, apps: ReportedApp[], at: Date): Promise<unknown>;
}
