import type { DbTx } from '../platform/db/client.js';

export const policyStore = {
  /** Every VPN configuration with its label ids (the shared part of every device's policy). */
  allVpnConfigs: (tx: DbTx) => tx.vpnConfiguration.findMany({ include: { labels: { select: { labelId: true } } }, orderBy: { id: 'asc' } }),
  /** Every app with its label ids. */
  allApps: (tx: DbTx) => tx.app.findMany({ include: { labels: { select: { labelId: true } } }, orderBy: { id: 'asc' } }),
};
