import type { DbTx, Prisma } from '../platform/db/client.js';

export const vpnStore = {
  findById: (tx: DbTx, id: number) => tx.vpnConfiguration.findUnique({ where: { id } }),
  findByName: (tx: DbTx, name: string) => tx.vpnConfiguration.findUnique({ where: { nameKey: name.toLowerCase() } }),
  count: (tx: DbTx) => tx.vpnConfiguration.count(),
  list: (tx: DbTx, page: { limit: number; offset: number }, orderBy: Record<string, 'asc' | 'desc'>) =>
    tx.vpnConfiguration.findMany({
      skip: page.offset,
      take: page.limit,
      orderBy: [orderBy, { id: 'asc' }],
      include: { labels: { select: { labelId: true } } },
    }),
  withLabels: (tx: DbTx, id: number) =>
    tx.vpnConfiguration.findUnique({ where: { id }, include: { labels: { select: { labelId: true } } } }),
  create: (tx: DbTx, data: Prisma.VpnConfigurationCreateInput) => tx.vpnConfiguration.create({ data }),
  update: (tx: DbTx, id: number, data: Prisma.VpnConfigurationUpdateInput) => tx.vpnConfiguration.update({ where: { id }, data }),
  remove: (tx: DbTx, id: number) => tx.vpnConfiguration.delete({ where: { id } }),
  appsReferencing: (tx: DbTx, id: number) => tx.app.findMany({ where: { perAppVpnConfigId: id }, select: { id: true, name: true } }),
  addLabel: (tx: DbTx, vpnConfigId: number, labelId: number) =>
    tx.vpnConfigurationLabel.upsert({
      where: { vpnConfigId_labelId: { vpnConfigId, labelId } },
      create: { vpnConfigId, labelId },
      update: {},
    }),
  removeLabel: (tx: DbTx, vpnConfigId: number, labelId: number) => tx.vpnConfigurationLabel.deleteMany({ where: { vpnConfigId, labelId } }),
  /** Passwords not yet sealed (stored in clear by versions before encryption at rest). */
  clearPasswords: async (tx: DbTx, sealedPrefix: string) =>
    (await tx.vpnConfiguration.findMany({
      where: { password: { not: null }, NOT: { password: { startsWith: sealedPrefix } } },
      select: { id: true, password: true },
    })) as Array<{ id: number; password: string }>,
  setPassword: (tx: DbTx, id: number, password: string) => tx.vpnConfiguration.update({ where: { id }, data: { password } }),
};
