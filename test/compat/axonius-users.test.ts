// The Axonius MobileIron adapter (copy in hshmilov/mongomock, adapters/mobileiron_adapter/
// connection.py, newer version `read_file id=41295301918`; docs/research/core-clients.md J),
// replayed for its user pass, _update_users_dict. Its RESTConnection sends Basic credentials and
// the headers Content-Type and Accept: application/json, under the /rest/api/v2 prefix. It pages
// GET authorized/users with adminDeviceSpaceId, limit=200 (DEVICE_PER_PAGE), offset and an empty
// query, while offset < totalCount (read from each answer), and keys each result by its
// `principal` (skipping results without one). The device space id comes from device_spaces/mine
// (results[0].id), which is 1 here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminPassword, removeDir, startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
const userCount = 205;
beforeAll(async () => {
  t = await startTestApp();
  // More users than one page holds; written straight to the database to keep the setup short.
  await t.services.db.user.createMany({
    data: Array.from({ length: userCount }, (_, i) => ({
      userId: `ax-${String(i).padStart(3, '0')}`,
      email: `ax${i}@example.com`,
      displayName: `Axonius User ${i}`,
    })),
  });
});
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

describe('Axonius adapter users pass', () => {
  it('pages /rest/api/v2/authorized/users by 200 with an empty query and keys every user by principal', async () => {
    const users = new Map<string, Record<string, unknown>>();
    let totalCount = 200;
    let offset = 0;
    let requests = 0;
    while (offset < totalCount) {
      const res = await t.anon
        .get('/rest/api/v2/authorized/users')
        .auth('admin', adminPassword)
        .set('Content-Type', 'application/json')
        .set('Accept', 'application/json')
        .query({ adminDeviceSpaceId: 1, limit: 200, offset, query: '' });
      expect(res.status).toBe(200);
      requests++;
      for (const user of res.body.results) if (user.principal) users.set(user.principal, user);
      totalCount = res.body.totalCount;
      offset += 200;
    }
    expect(requests).toBe(2);
    expect(users.size).toBe(userCount);
    expect(users.get('ax-204')).toMatchObject({
      principal: 'ax-204',
      email: 'ax204@example.com',
      displayName: 'Axonius User 204',
      enabled: true,
    });
  });
});
