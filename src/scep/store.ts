import type { DbTx, Prisma } from '../platform/db/client.js';
import { deviceStore } from '../devices/index.js';

export const scepStore = {
  createChallenge: (tx: DbTx, data: Prisma.ScepChallengeUncheckedCreateInput) => tx.scepChallenge.create({ data }),
  findChallengeByHash: (tx: DbTx, challengeHash: string) => tx.scepChallenge.findUnique({ where: { challengeHash } }),
  /** Marks the challenge used only if it still is not: 1 when this caller won, 0 when it was already spent. */
  consumeChallenge: async (tx: DbTx, id: number, at: Date) =>
    (await tx.scepChallenge.updateMany({ where: { id, usedAt: null, expiresAt: { gt: at } }, data: { usedAt: at } })).count,

  // Device rows through their one owner, the devices store
  findDeviceByUuid: (tx: DbTx, uuid: string) => deviceStore.refByUuid(tx, uuid),
  findDeviceById: (tx: DbTx, id: number) => deviceStore.refById(tx, id),
};
