import type { DbTx } from '../platform/db/client.js';
import { pendingCommandStatuses } from './reconcile.js';

const pendingStatuses = pendingCommandStatuses;

export const commandStore = {
  create: (
    tx: DbTx,
    data: { commandUuid: string; deviceRef: number; requestType: string; body: string; origin: string; purpose: string | null },
  ) => tx.mdmCommand.create({ data }),
  findByUuid: (tx: DbTx, deviceRef: number, commandUuid: string) => tx.mdmCommand.findFirst({ where: { deviceRef, commandUuid } }),
  /** Every command that says something about reconciliation slots, oldest first. */
  withPurpose: (tx: DbTx, deviceRef: number) =>
    tx.mdmCommand.findMany({
      where: { deviceRef, purpose: { not: null } },
      select: { commandUuid: true, purpose: true, status: true },
      orderBy: { id: 'asc' },
    }),
  cancel: (tx: DbTx, deviceRef: number, commandUuids: string[]) =>
    tx.mdmCommand.updateMany({
      where: { deviceRef, commandUuid: { in: commandUuids }, status: { in: pendingStatuses } },
      data: { status: 'Canceled', completedAt: new Date() },
    }),
  cancelAllPending: (tx: DbTx, deviceRef: number) =>
    tx.mdmCommand.updateMany({
      where: { deviceRef, status: { in: pendingStatuses } },
      data: { status: 'Canceled', completedAt: new Date() },
    }),
  /** On Idle: commands sent but never answered, and NotNow ones, become deliverable again. */
  requeue: (tx: DbTx, deviceRef: number) =>
    tx.mdmCommand.updateMany({ where: { deviceRef, status: { in: ['Sent', 'NotNow'] } }, data: { status: 'Queued' } }),
  nextQueued: (tx: DbTx, deviceRef: number) => tx.mdmCommand.findFirst({ where: { deviceRef, status: 'Queued' }, orderBy: { id: 'asc' } }),
  markSent: (tx: DbTx, id: number) =>
    tx.mdmCommand.update({ where: { id }, data: { status: 'Sent', sentAt: new Date(), attempts: { increment: 1 } } }),
  complete: (tx: DbTx, id: number, data: { status: string; result: string; errorChain: string | null }) =>
    tx.mdmCommand.update({ where: { id }, data: { ...data, completedAt: data.status === 'NotNow' ? null : new Date() } }),
  list: (tx: DbTx, deviceRef: number, page: { limit: number; offset: number }, status?: string) =>
    tx.mdmCommand.findMany({
      where: { deviceRef, ...(status ? { status } : {}) },
      orderBy: { id: 'asc' },
      skip: page.offset,
      take: page.limit,
    }),
  count: (tx: DbTx, deviceRef: number, status?: string) => tx.mdmCommand.count({ where: { deviceRef, ...(status ? { status } : {}) } }),
};

export const pushStore = {
  latest: (tx: DbTx, deviceRef: number) => tx.pushRecord.findFirst({ where: { deviceRef }, orderBy: { id: 'desc' } }),
  count: (tx: DbTx, deviceRef: number) => tx.pushRecord.count({ where: { deviceRef } }),
  list: (tx: DbTx, deviceRef: number, page: { limit: number; offset: number }) =>
    tx.pushRecord.findMany({ where: { deviceRef }, orderBy: { id: 'desc' }, skip: page.offset, take: page.limit }),
};
