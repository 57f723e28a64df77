import type { DbTx } from '../platform/db/client.js';
import { deviceStore } from '../devices/index.js';

export const labelStore = {
  findById: (tx: DbTx, id: number) => tx.label.findUnique({ where: { id } }),
  findByName: (tx: DbTx, name: string) => tx.label.findUnique({ where: { nameKey: name.toLowerCase() } }),
  findManyById: (tx: DbTx, ids: number[]) => tx.label.findMany({ where: { id: { in: ids } } }),
  findManyByNameKey: (tx: DbTx, nameKeys: string[]) => tx.label.findMany({ where: { nameKey: { in: nameKeys } } }),
  all: (tx: DbTx) => tx.label.findMany({ orderBy: { id: 'asc' } }),
  filterLabels: (tx: DbTx) => tx.label.findMany({ where: { isStatic: false }, orderBy: { id: 'asc' } }),
  create: (tx: DbTx, data: { name: string; description: string; isStatic: boolean; isSystem?: boolean; criteria: string | null }) =>
    tx.label.create({ data: { ...data, nameKey: data.name.toLowerCase() } }),
  update: (tx: DbTx, id: number, data: { name?: string; description?: string; criteria?: string | null }) =>
    tx.label.update({ where: { id }, data: { ...data, ...(data.name ? { nameKey: data.name.toLowerCase() } : {}) } }),
  removeMany: (tx: DbTx, ids: number[]) => tx.label.deleteMany({ where: { id: { in: ids } } }),
  manualCounts: async (tx: DbTx) => {
    const rows = await tx.deviceLabel.groupBy({ by: ['labelId'], _count: { _all: true } });
    return new Map(rows.map((r) => [r.labelId, r._count._all]));
  },
  manualMemberIds: async (tx: DbTx, labelId: number) =>
    (await tx.deviceLabel.findMany({ where: { labelId }, select: { deviceId: true } })).map((r) => r.deviceId),
  /**
   * Adds memberships, keeping those that exist: one statement per 1,000 devices. (An upsert per
   * device cost Prisma about 1.5 ms each, all of it without a pause for the event loop.) Raw
   * SQL is not counted by the client: callers tell the device directory (noteWrite).
   */
  addMembers: (tx: DbTx, labelId: number, deviceIds: number[]) =>
    deviceStore.insertLabelMemberships(
      tx,
      deviceIds.map((deviceId) => [deviceId, labelId] as const),
      new Date(),
    ),
  removeMembers: (tx: DbTx, labelId: number, deviceIds: number[]) =>
    tx.deviceLabel.deleteMany({ where: { labelId, deviceId: { in: deviceIds } } }),
  assignmentCounts: async (tx: DbTx, labelId: number) => ({
    devices: await tx.deviceLabel.count({ where: { labelId } }),
    vpnConfigurations: await tx.vpnConfigurationLabel.count({ where: { labelId } }),
    apps: await tx.appLabel.count({ where: { labelId } }),
  }),
};
