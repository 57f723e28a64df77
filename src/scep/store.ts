import type { DbTx, Prisma } from '../platform/db/client.js';

export const scepStore = {
  createChallenge: (tx: DbTx, data: Prisma.ScepChallengeUncheckedCreateInput) => tx.scepChallenge.create({ data }),
  findChallengeByHash: (tx: DbTx, challengeHash: string) => tx.scepChallenge.findUnique({ where: { challengeHash } }),
  /** Marks the challenge used only if it still is not: 1 when this caller won, 0 when it was already spent. */
  consumeChallenge: async (tx: DbTx, id: number, at: Date) =>
    (await tx.scepChallenge.updateMany({ where: { id, usedAt: null, expiresAt: { gt: at } }, data: { usedAt: at } })).count,

  findDeviceByUuid: (tx: DbTx, uuid: string) => tx.device.findUnique({ where: { uuid }, select: { id: true, uuid: true } }),
  findDeviceById: (tx: DbTx, id: number) => tx.device.findUnique({ where: { id }, select: { id: true, uuid: true } }),
};
