import type { DbTx, Prisma } from '../platform/db/client.js';

const withLabels = { labels: { select: { labelId: true } } } as const;

export const appStore = {
  findById: (tx: DbTx, id: number) => tx.app.findUnique({ where: { id }, include: withLabels }),
  findByBundle: (tx: DbTx, platform: string, bundleId: string) =>
    tx.app.findUnique({ where: { platform_bundleId: { platform, bundleId } } }),
  count: (tx: DbTx, where: Prisma.AppWhereInput) => tx.app.count({ where }),
  list: (tx: DbTx, where: Prisma.AppWhereInput, page: { limit: number; offset: number }, orderBy: Record<string, 'asc' | 'desc'>) =>
    tx.app.findMany({ where, skip: page.offset, take: page.limit, orderBy: [orderBy, { id: 'asc' }], include: withLabels }),
  create: (tx: DbTx, data: Prisma.AppUncheckedCreateInput) => tx.app.create({ data, include: withLabels }),
  update: (tx: DbTx, id: number, data: Prisma.AppUncheckedUpdateInput) => tx.app.update({ where: { id }, data, include: withLabels }),
  remove: (tx: DbTx, id: number) => tx.app.delete({ where: { id } }),
  addLabel: (tx: DbTx, appId: number, labelId: number) =>
    tx.appLabel.upsert({ where: { appId_labelId: { appId, labelId } }, create: { appId, labelId }, update: {} }),
  removeLabel: (tx: DbTx, appId: number, labelId: number) => tx.appLabel.deleteMany({ where: { appId, labelId } }),
};
