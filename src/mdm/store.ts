// The Prisma implementations of the MDM ports (src/mdm/ports.ts). Device rows go through their
// one owner, the devices store; the commands and push records tables are MDM's own.
import { recordAudit } from '../audit/index.js';
import { deviceStore } from '../devices/index.js';
import { pendingCommandStatuses } from '../lib/mdm-reconcile/index.js';
import { directFirst } from '../platform/db/client.js';
import type { AuditTrail, CommandRecords, CommandRow, DeviceRecords, PushRecords } from './ports.js';

/** A command as Prisma reads it: the port's row and its updatedAt. */
type MdmCommand = CommandRow & { updatedAt: Date };

export const prismaDeviceRecords: DeviceRecords = {
  identityById: deviceStore.identityById,
  findById: deviceStore.findById,
  findByUuid: deviceStore.findByUuid,
  findByUdid: deviceStore.findByUdid,
  createEnrolling: (tx, { uuid, udid }) => deviceStore.create(tx, { uuid, platform: 'iOS', udid, manufacturer: 'Apple', owner: 'COMPANY' }),
  assignUdid: deviceStore.assignUdid,
  recordAuthenticate: deviceStore.recordAuthenticate,
  recordTokenUpdate: deviceStore.recordTokenUpdate,
  recordSeen: deviceStore.recordSeen,
  recordInformation: deviceStore.recordInformation,
  setMdmState: deviceStore.setMdmState,
  markRetired: deviceStore.markRetired,
  markWiped: deviceStore.markWiped,
  activePushTargets: deviceStore.activePushTargets,
  unsealedUnlockTokens: deviceStore.unsealedUnlockTokens,
  setUnlockToken: deviceStore.setUnlockToken,
};

const commandColumns = `"id","commandUuid","deviceRef","requestType","body","status","origin","purpose","result","errorChain","queuedAt","sentAt","completedAt","attempts","updatedAt"`;

/** A command row as Prisma gives it, from a row read on the connection itself. */
function commandRowFrom(raw: Record<string, unknown>): MdmCommand {
  const date = (v: unknown) => (v == null ? null : new Date(String(v)));
  return {
    id: Number(raw.id),
    commandUuid: raw.commandUuid as string,
    deviceRef: Number(raw.deviceRef),
    requestType: raw.requestType as string,
    body: raw.body as string,
    status: raw.status as string,
    origin: raw.origin as string,
    purpose: (raw.purpose as string | null) ?? null,
    result: (raw.result as string | null) ?? null,
    errorChain: (raw.errorChain as string | null) ?? null,
    queuedAt: date(raw.queuedAt)!,
    sentAt: date(raw.sentAt),
    completedAt: date(raw.completedAt),
    attempts: Number(raw.attempts),
    updatedAt: date(raw.updatedAt)!,
  };
}

const commandByUuidSql = `SELECT ${commandColumns} FROM "MdmCommand" WHERE "deviceRef" = ? AND "commandUuid" = ? LIMIT 1`;
const nextQueuedSql = `SELECT ${commandColumns} FROM "MdmCommand" WHERE "deviceRef" = ? AND "status" = 'Queued' ORDER BY "id" ASC LIMIT 1`;

export const commandStore = {
  create: (tx, data) => tx.mdmCommand.create({ data }),
  // A result and an Idle poll each read one command: on the connection itself where it is open.
  findByUuid: (tx, deviceRef, commandUuid) =>
    directFirst(tx, commandByUuidSql, [deviceRef, commandUuid], commandRowFrom, () =>
      tx.mdmCommand.findFirst({ where: { deviceRef, commandUuid } }),
    ),
  withPurpose: (tx, deviceRef) =>
    tx.mdmCommand.findMany({
      where: { deviceRef, purpose: { not: null } },
      select: { commandUuid: true, purpose: true, status: true },
      orderBy: { id: 'asc' },
    }),
  cancel: (tx, deviceRef, commandUuids) =>
    tx.mdmCommand.updateMany({
      where: { deviceRef, commandUuid: { in: commandUuids }, status: { in: pendingCommandStatuses } },
      data: { status: 'Canceled', completedAt: new Date() },
    }),
  cancelAllPending: (tx, deviceRef) =>
    tx.mdmCommand.updateMany({
      where: { deviceRef, status: { in: pendingCommandStatuses } },
      data: { status: 'Canceled', completedAt: new Date() },
    }),
  requeue: (tx, deviceRef) =>
    tx.mdmCommand.updateMany({ where: { deviceRef, status: { in: ['Sent', 'NotNow'] } }, data: { status: 'Queued' } }),
  nextQueued: (tx, deviceRef) =>
    directFirst(tx, nextQueuedSql, [deviceRef], commandRowFrom, () =>
      tx.mdmCommand.findFirst({ where: { deviceRef, status: 'Queued' }, orderBy: { id: 'asc' } }),
    ),
  markSent: (tx, id) => tx.mdmCommand.update({ where: { id }, data: { status: 'Sent', sentAt: new Date(), attempts: { increment: 1 } } }),
  complete: (tx, id, data) =>
    tx.mdmCommand.update({ where: { id }, data: { ...data, completedAt: data.status === 'NotNow' ? null : new Date() } }),
  list: (tx, deviceRef, page, status) =>
    tx.mdmCommand.findMany({
      where: { deviceRef, ...(status ? { status } : {}) },
      orderBy: { id: 'asc' },
      skip: page.offset,
      take: page.limit,
    }),
  count: (tx, deviceRef, status) => tx.mdmCommand.count({ where: { deviceRef, ...(status ? { status } : {}) } }),
  devicesWithPending: async (tx) =>
    (
      await tx.mdmCommand.findMany({
        where: { status: { in: pendingCommandStatuses } },
        select: { deviceRef: true },
        distinct: ['deviceRef'],
      })
    ).map((r) => r.deviceRef),
} satisfies CommandRecords;

export const pushStore = {
  record: (tx, data) => tx.pushRecord.create({ data }),
  latest: (tx, deviceRef) => tx.pushRecord.findFirst({ where: { deviceRef }, orderBy: { id: 'desc' } }),
  count: (tx, deviceRef) => tx.pushRecord.count({ where: { deviceRef } }),
  list: (tx, deviceRef, page) =>
    tx.pushRecord.findMany({ where: { deviceRef }, orderBy: { id: 'desc' }, skip: page.offset, take: page.limit }),
} satisfies PushRecords;

export const prismaAuditTrail: AuditTrail = { record: recordAudit };
