import type { DbTx } from '../platform/db/client.js';

export const userStore = {
  findByUserId: (tx: DbTx, userId: string) => tx.user.findUnique({ where: { userId } }),
  count: (tx: DbTx, where: object = {}) => tx.user.count({ where }),
  list: (tx: DbTx, where: object, page: { limit: number; offset: number }, orderBy: Record<string, 'asc' | 'desc'>) =>
    tx.user.findMany({
      where,
      skip: page.offset,
      take: page.limit,
      orderBy: [orderBy, { id: 'asc' }],
      include: { _count: { select: { devices: true } } },
    }),
  create: (tx: DbTx, data: { userId: string; email?: string | null; displayName?: string | null }) => tx.user.create({ data }),
  update: (tx: DbTx, id: number, data: { email?: string | null; displayName?: string | null }) => tx.user.update({ where: { id }, data }),
  remove: (tx: DbTx, id: number) => tx.user.delete({ where: { id } }),
};
