import type { DbTx } from '../db/client.js';

export const invitationStore = {
  create: (tx: DbTx, data: { token: string; challengeHash: string; userRef: number | null; deviceRef: number | null; identityKind: string; expiresAt: Date; createdBy: string }) =>
    tx.enrollmentInvitation.create({ data, include: { user: true, device: true } }),
  findByToken: (tx: DbTx, token: string) => tx.enrollmentInvitation.findUnique({ where: { token }, include: { user: true, device: true } }),
  findByChallengeHash: (tx: DbTx, challengeHash: string) =>
    tx.enrollmentInvitation.findFirst({ where: { challengeHash }, include: { user: true, device: true } }),
  markUsed: (tx: DbTx, id: number, deviceRef: number) =>
    tx.enrollmentInvitation.updateMany({ where: { id, usedAt: null }, data: { usedAt: new Date(), deviceRef } }),
  list: (tx: DbTx, page: { limit: number; offset: number }) =>
    tx.enrollmentInvitation.findMany({ skip: page.offset, take: page.limit, orderBy: { id: 'desc' }, include: { user: true, device: true } }),
  count: (tx: DbTx) => tx.enrollmentInvitation.count(),
};
