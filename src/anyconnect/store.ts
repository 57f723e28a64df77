// Prisma calls for the AnyConnect head-end tables. JSON columns (rules, criteria, perapp) are
// stored as text; the service parses and serializes them.
import type { DbTx, Prisma } from '../platform/db/client.js';

type Page = { limit: number; offset: number };
type Order = Record<string, 'asc' | 'desc'>;
const byId = { id: 'asc' } as const;

/** The single settings row's id. */
export const SETTINGS_ID = 1;

export const anyconnectStore = {
  perappPolicies: {
    findById: (tx: DbTx, id: number) => tx.perAppPolicy.findUnique({ where: { id } }),
    findByName: (tx: DbTx, name: string) => tx.perAppPolicy.findUnique({ where: { name } }),
    all: (tx: DbTx) => tx.perAppPolicy.findMany({ orderBy: byId }),
    list: (tx: DbTx, page: Page, orderBy: Order) =>
      tx.perAppPolicy.findMany({ skip: page.offset, take: page.limit, orderBy: [orderBy, byId] }),
    count: (tx: DbTx) => tx.perAppPolicy.count(),
    create: (tx: DbTx, data: Prisma.PerAppPolicyCreateInput) => tx.perAppPolicy.create({ data }),
    update: (tx: DbTx, id: number, data: Prisma.PerAppPolicyUpdateInput) => tx.perAppPolicy.update({ where: { id }, data }),
    remove: (tx: DbTx, id: number) => tx.perAppPolicy.delete({ where: { id } }),
    removeAll: (tx: DbTx) => tx.perAppPolicy.deleteMany({}),
  },
  groupPolicies: {
    findById: (tx: DbTx, id: number) => tx.groupPolicy.findUnique({ where: { id } }),
    findByName: (tx: DbTx, name: string) => tx.groupPolicy.findUnique({ where: { name } }),
    all: (tx: DbTx) => tx.groupPolicy.findMany({ orderBy: byId }),
    list: (tx: DbTx, page: Page, orderBy: Order) =>
      tx.groupPolicy.findMany({ skip: page.offset, take: page.limit, orderBy: [orderBy, byId] }),
    count: (tx: DbTx) => tx.groupPolicy.count(),
    create: (tx: DbTx, data: Prisma.GroupPolicyCreateInput) => tx.groupPolicy.create({ data }),
    update: (tx: DbTx, id: number, data: Prisma.GroupPolicyUpdateInput) => tx.groupPolicy.update({ where: { id }, data }),
    remove: (tx: DbTx, id: number) => tx.groupPolicy.delete({ where: { id } }),
    removeAll: (tx: DbTx) => tx.groupPolicy.deleteMany({}),
  },
  tunnelGroups: {
    findById: (tx: DbTx, id: number) => tx.tunnelGroup.findUnique({ where: { id } }),
    findByName: (tx: DbTx, name: string) => tx.tunnelGroup.findUnique({ where: { name } }),
    all: (tx: DbTx) => tx.tunnelGroup.findMany({ orderBy: byId }),
    list: (tx: DbTx, page: Page, orderBy: Order) =>
      tx.tunnelGroup.findMany({ skip: page.offset, take: page.limit, orderBy: [orderBy, byId] }),
    count: (tx: DbTx) => tx.tunnelGroup.count(),
    create: (tx: DbTx, data: Prisma.TunnelGroupCreateInput) => tx.tunnelGroup.create({ data }),
    update: (tx: DbTx, id: number, data: Prisma.TunnelGroupUpdateInput) => tx.tunnelGroup.update({ where: { id }, data }),
    /** Repoints every tunnel group using one default group policy name to another (renames). */
    renameDefaultGroupPolicy: (tx: DbTx, from: string, to: string) =>
      tx.tunnelGroup.updateMany({ where: { defaultGroupPolicy: from }, data: { defaultGroupPolicy: to } }),
    remove: (tx: DbTx, id: number) => tx.tunnelGroup.delete({ where: { id } }),
    removeAll: (tx: DbTx) => tx.tunnelGroup.deleteMany({}),
  },
  dapRecords: {
    findById: (tx: DbTx, id: number) => tx.dapRecord.findUnique({ where: { id } }),
    findByName: (tx: DbTx, name: string) => tx.dapRecord.findUnique({ where: { name } }),
    all: (tx: DbTx) => tx.dapRecord.findMany({ orderBy: byId }),
    list: (tx: DbTx, page: Page, orderBy: Order) =>
      tx.dapRecord.findMany({ skip: page.offset, take: page.limit, orderBy: [orderBy, byId] }),
    count: (tx: DbTx) => tx.dapRecord.count(),
    create: (tx: DbTx, data: Prisma.DapRecordCreateInput) => tx.dapRecord.create({ data }),
    update: (tx: DbTx, id: number, data: Prisma.DapRecordUpdateInput) => tx.dapRecord.update({ where: { id }, data }),
    remove: (tx: DbTx, id: number) => tx.dapRecord.delete({ where: { id } }),
    removeAll: (tx: DbTx) => tx.dapRecord.deleteMany({}),
  },
  settings: {
    get: (tx: DbTx) => tx.headEndSettings.findUnique({ where: { id: SETTINGS_ID } }),
    put: (tx: DbTx, data: { dapOrder?: string; perappAttrDescription?: string; trustpoints?: string }) =>
      tx.headEndSettings.upsert({ where: { id: SETTINGS_ID }, create: { id: SETTINGS_ID, ...data }, update: data }),
  },
};

export type PerAppPolicyRow = NonNullable<Awaited<ReturnType<typeof anyconnectStore.perappPolicies.findById>>>;
export type GroupPolicyRow = NonNullable<Awaited<ReturnType<typeof anyconnectStore.groupPolicies.findById>>>;
export type TunnelGroupRow = NonNullable<Awaited<ReturnType<typeof anyconnectStore.tunnelGroups.findById>>>;
export type DapRecordRow = NonNullable<Awaited<ReturnType<typeof anyconnectStore.dapRecords.findById>>>;
