import { describe, expect, it } from 'vitest';
import { removeDir, startTestApp } from '../helpers/app.js';

describe('restart', () => {
  it('keeps data written before a restart on the same data dir', async () => {
    const first = await startTestApp();
    await first.admin.post('/api/v2/users').send({ userId: 'persisted' });
    const dev = await first.admin.post('/api/v2/devices').send({ platform: 'iOS', userId: 'persisted', model: 'iPad4,1' });
    const vpn = await first.admin.post('/api/v2/configurations/vpn').send({ name: 'keep', connectionType: 'IKEV2', server: '10.0.0.1' });
    await first.close();

    const second = await startTestApp({ dataDir: first.dataDir });
    try {
      const details = await second.admin.get(`/api/v2/devices/${dev.body.results['common.uuid']}/details`);
      expect(details.status).toBe(200);
      expect(details.body.results).toContainEqual({ name: 'user.user_id', value: 'persisted' });
      const v = await second.admin.get(`/api/v2/configurations/vpn/${vpn.body.results.id}`);
      expect(v.body.results.vpnUuid).toBe(vpn.body.results.vpnUuid);
      // the system labels are not duplicated by a second start
      const labels = await second.admin.get('/api/v2/labels/label_summary');
      expect(labels.body.results.filter((l: { name: string }) => l.name === 'iOS')).toHaveLength(1);
    } finally {
      await second.close();
      removeDir(first.dataDir);
    }
  });
});
