import type { DbTx } from '../platform/db/client.js';

export const adminStore = {
  findByUsername: (tx: DbTx, username: string) => tx.adminUser.findUnique({ where: { username } }),
  findById: (tx: DbTx, id: number) => tx.adminUser.findUnique({ where: { id } }),
  count: (tx: DbTx) => tx.adminUser.count(),
  countByRole: (tx: DbTx, role: string) => tx.adminUser.count({ where: { role } }),
  list: (tx: DbTx, page: { limit: number; offset: number }, orderBy: Record<string, 'asc' | 'desc'>) =>
    tx.adminUser.findMany({ skip: page.offset, take: page.limit, orderBy: [orderBy, { id: 'asc' }] }),
  create: (tx: DbTx, data: { username: string; passwordHash: string; role: string }) => tx.adminUser.create({ data }),
  update: (tx: DbTx, id: number, data: { passwordHash?: string; role?: string }) => tx.adminUser.update({ where: { id }, data }),
  remove: (tx: DbTx, id: number) => tx.adminUser.delete({ where: { id } }),
};
