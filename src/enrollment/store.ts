import { createHash } from 'node:crypto';
import type { DbTx } from '../platform/db/client.js';

/** How an invitation token is stored (hex SHA-256, like challenges): lookups hash the token asked for. */
export const invitationTokenHash = (token: string) => createHash('sha256').update(token).digest('hex');

export const invitationStore = {
  create: (
    tx: DbTx,
    data: {
      tokenHash: string;
      challengeHash: string;
      userRef: number | null;
      deviceRef: number | null;
      identityKind: string;
      expiresAt: Date;
      createdBy: string;
    },
  ) => tx.enrollmentInvitation.create({ data, include: { user: true, device: true } }),
  findByToken: (tx: DbTx, token: string) =>
    tx.enrollmentInvitation.findUnique({ where: { tokenHash: invitationTokenHash(token) }, include: { user: true, device: true } }),
  findById: (tx: DbTx, id: number) => tx.enrollmentInvitation.findUnique({ where: { id }, include: { user: true, device: true } }),
  findByChallengeHash: (tx: DbTx, challengeHash: string) =>
    tx.enrollmentInvitation.findFirst({ where: { challengeHash }, include: { user: true, device: true } }),
  /** Spends the invitation, naming the device record it enrolled. */
  markUsed: (tx: DbTx, id: number, deviceRef: number) =>
    tx.enrollmentInvitation.updateMany({ where: { id, usedAt: null }, data: { usedAt: new Date(), deviceRef } }),
  list: (tx: DbTx, page: { limit: number; offset: number }) =>
    tx.enrollmentInvitation.findMany({
      skip: page.offset,
      take: page.limit,
      orderBy: { id: 'desc' },
      include: { user: true, device: true },
    }),
  count: (tx: DbTx) => tx.enrollmentInvitation.count(),
  /** Tokens an older version stored in clear: hash them and empty the clear column. Returns how many. */
  hashClearTokens: async (tx: DbTx): Promise<number> => {
    const rows = await tx.enrollmentInvitation.findMany({ where: { token: { not: null } }, select: { id: true, token: true } });
    for (const r of rows) {
      await tx.enrollmentInvitation.update({ where: { id: r.id }, data: { tokenHash: invitationTokenHash(r.token!), token: null } });
    }
    return rows.length;
  },
};
