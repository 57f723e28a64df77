import type { DbTx } from '../platform/db/client.js';

export const policyStore = {
  /** VPN configurations applied to any of the given labels, with all their label ids. */
  vpnConfigsOnLabels: (tx: DbTx, labelIds: number[]) =>
    tx.vpnConfiguration.findMany({
      where: { labels: { some: { labelId: { in: labelIds } } } },
      include: { labels: { select: { labelId: true } } },
      orderBy: { id: 'asc' },
    }),
  /** Apps applied to any of the given labels, with all their label ids. */
  appsOnLabels: (tx: DbTx, labelIds: number[]) =>
    tx.app.findMany({
      where: { labels: { some: { labelId: { in: labelIds } } } },
      include: { labels: { select: { labelId: true } } },
      orderBy: { id: 'asc' },
    }),
};
