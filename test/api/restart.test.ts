import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { rawBody, removeDir, startTestApp, type TestApp } from '../helpers/app.js';

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

  it('stores VPN passwords encrypted, still puts them in profiles, and encrypts secrets stored in clear before', async () => {
    const secret = 'S3cret-at-rest-pass';
    const first = await startTestApp();
    const column = () => {
      const db = new Database(path.join(first.dataDir, 'mockiron.db'), { readonly: true });
      try {
        return (db.prepare('SELECT password FROM VpnConfiguration WHERE name = ?').get('at-rest') as { password: string }).password;
      } finally {
        db.close();
      }
    };
    const profileOf = async (t: TestApp, uuid: string) =>
      (await t.admin.get(`/api/v2/devices/${uuid}/profiles/vpn`).buffer(true).parse(rawBody)).body as Buffer;
    try {
      const label = (await first.admin.post('/api/v2/labels').send({ name: 'at-rest', static: true })).body.results.id;
      const vpn = (
        await first.admin
          .post('/api/v2/configurations/vpn')
          .send({ name: 'at-rest', connectionType: 'IKEV2', server: '10.0.0.9', username: 'u', password: secret })
      ).body.results.id;
      await first.admin.put(`/api/v2/configurations/vpn/${vpn}/labels/${label}`);
      const uuid = (await first.admin.post('/api/v2/devices').send({ platform: 'iOS', model: 'iPad4,1' })).body.results['common.uuid'];
      expect((await first.admin.put('/api/v2/devices/labels/at-rest/add').send({ deviceUuids: [uuid] })).status).toBe(200);
      expect(column()).toMatch(/^enc:v1:/);
      expect(column()).not.toContain(secret);
      expect((await profileOf(first, uuid)).includes(secret)).toBe(true);
      await first.close();

      // A database from before encryption at rest: the password in clear
      const db = new Database(path.join(first.dataDir, 'mockiron.db'));
      db.prepare('UPDATE VpnConfiguration SET password = ? WHERE name = ?').run(secret, 'at-rest');
      db.prepare('UPDATE Device SET unlockToken = ? WHERE uuid = ?').run('bGVnYWN5LXVubG9jay10b2tlbg==', uuid);
      db.close();
      const second = await startTestApp({ dataDir: first.dataDir });
      try {
        expect(column()).toMatch(/^enc:v1:/);
        expect((await profileOf(second, uuid)).includes(secret)).toBe(true);
        const check = new Database(path.join(first.dataDir, 'mockiron.db'), { readonly: true });
        const token = (check.prepare('SELECT unlockToken FROM Device WHERE uuid = ?').get(uuid) as { unlockToken: string }).unlockToken;
        check.close();
        expect(token).toMatch(/^enc:v1:/);
        expect(JSON.stringify((await second.admin.get(`/api/v2/configurations/vpn/${vpn}`)).body)).not.toContain(secret);
      } finally {
        await second.close();
      }
    } finally {
      removeDir(first.dataDir);
    }
  });
});
