import type { DbTx, Prisma } from '../db/client.js';

const withUser = { user: true } as const;

export const deviceStore = {
  findByUuid: (tx: DbTx, uuid: string) => tx.device.findUnique({ where: { uuid }, include: withUser }),
  findByUdid: (tx: DbTx, udid: string) => tx.device.findUnique({ where: { udid }, include: withUser }),
  findManyByUuid: (tx: DbTx, uuids: string[]) => tx.device.findMany({ where: { uuid: { in: uuids } }, include: withUser }),
  count: (tx: DbTx, where: Prisma.DeviceWhereInput = {}) => tx.device.count({ where }),
  page: (tx: DbTx, where: Prisma.DeviceWhereInput, page: { limit: number; offset: number }, orderBy: Record<string, 'asc' | 'desc'>) =>
    tx.device.findMany({ where, include: withUser, skip: page.offset, take: page.limit, orderBy: [orderBy, { id: 'asc' }] }),
  customAttributeRows: (tx: DbTx) => tx.device.findMany({ where: { customAttributes: { not: '{}' } }, select: { customAttributes: true } }),
  create: (tx: DbTx, data: Prisma.DeviceUncheckedCreateInput) => tx.device.create({ data, include: withUser }),
  update: (tx: DbTx, id: number, data: Prisma.DeviceUncheckedUpdateInput) => tx.device.update({ where: { id }, data, include: withUser }),
  remove: (tx: DbTx, id: number) => tx.device.delete({ where: { id } }),
  manualLabelIds: async (tx: DbTx, deviceId: number) =>
    (await tx.deviceLabel.findMany({ where: { deviceId }, select: { labelId: true } })).map((r) => r.labelId),
};
