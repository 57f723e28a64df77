import type { DbTx, Prisma } from '../platform/db/client.js';

const withLabels = { labels: { select: { labelId: true } } } as const;
// The icon's bytes stay out of every read but the one that asks for them.
const omit = { icon: true } as const;

export const appStore = {
  findById: (tx: DbTx, id: number) => tx.app.findUnique({ where: { id }, include: withLabels, omit }),
  findByBundle: (tx: DbTx, platform: string, bundleId: string) =>
    tx.app.findUnique({ where: { platform_bundleId: { platform, bundleId } }, omit }),
  count: (tx: DbTx, where: Prisma.AppWhereInput) => tx.app.count({ where }),
  list: (tx: DbTx, where: Prisma.AppWhereInput, page: { limit: number; offset: number }, orderBy: Record<string, 'asc' | 'desc'>) =>
    tx.app.findMany({ where, skip: page.offset, take: page.limit, orderBy: [orderBy, { id: 'asc' }], include: withLabels, omit }),
  create: (tx: DbTx, data: Prisma.AppUncheckedCreateInput) => tx.app.create({ data, include: withLabels, omit }),
  update: (tx: DbTx, id: number, data: Prisma.AppUncheckedUpdateInput) => tx.app.update({ where: { id }, data, include: withLabels, omit }),
  remove: (tx: DbTx, id: number) => tx.app.delete({ where: { id }, select: { id: true } }),
  addLabel: (tx: DbTx, appId: number, labelId: number) =>
    tx.appLabel.upsert({ where: { appId_labelId: { appId, labelId } }, create: { appId, labelId }, update: {} }),
  removeLabel: (tx: DbTx, appId: number, labelId: number) => tx.appLabel.deleteMany({ where: { appId, labelId } }),
};
