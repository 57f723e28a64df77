// What users know of their devices (the UserDevices port the devices capability provides),
// through the real API and the real event bus: a user who owns devices cannot be deleted, and a
// user change names exactly that user's devices.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceStore } from '../../src/devices/store.js';
import { removeDir, startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

async function registerFor(userId: string | null, serialNumber: string): Promise<string> {
  const res = await t.admin.post('/api/v2/devices').send({ platform: 'iOS', serialNumber, ...(userId ? { userId } : {}) });
  expect(res.status).toBe(201);
  return res.body.results['common.uuid'];
}

async function idOf(uuid: string): Promise<number> {
  return (await deviceStore.findByUuid(t.services.db, uuid))!.id;
}

describe("a user's devices", () => {
  const owned: string[] = [];
  beforeAll(async () => {
    for (const userId of ['owner', 'neighbour']) expect((await t.admin.post('/api/v2/users').send({ userId })).status).toBe(201);
    owned.push(await registerFor('owner', 'OWNED1'), await registerFor('owner', 'OWNED2'));
    await registerFor('neighbour', 'NEIGHBOUR1');
    await registerFor(null, 'NOBODY1');
  });

  it('refuses to delete a user who owns devices, counting them, and keeps the user', async () => {
    const res = await t.admin.delete('/api/v2/users/owner');
    expect(res.status).toBe(409);
    expect(res.body.messages[0]).toMatchObject({
      messageKey: 'com.mobileiron.vsp.messages.user.hasDevices',
      localizedMessage: 'User owner still owns 2 device(s); delete or reassign them first',
    });
    expect((await t.admin.get('/api/v2/users/owner')).status).toBe(200);
  });

  it("tells the event bus exactly the user's devices when the user changes, and nothing for a user without devices", async () => {
    const told: number[][] = [];
    const unsubscribe = t.services.events.subscribe('users.changed', ({ deviceIds }) => {
      told.push(deviceIds);
    });
    try {
      expect((await t.admin.put('/api/v2/users/owner').send({ email: 'owner@example.com' })).status).toBe(200);
      expect((await t.admin.post('/api/v2/users').send({ userId: 'deviceless' })).status).toBe(201);
      expect((await t.admin.put('/api/v2/users/deviceless').send({ email: 'none@example.com' })).status).toBe(200);
    } finally {
      unsubscribe();
    }
    expect(told).toHaveLength(1);
    expect([...told[0]!].sort((a, b) => a - b)).toEqual((await Promise.all(owned.map(idOf))).sort((a, b) => a - b));
  });

  it('deletes the user once its devices are reassigned or deleted', async () => {
    const moved = await t.admin.put(`/api/v2/devices/${owned[0]}/attributes`).send({ userId: 'neighbour' });
    expect(moved.body.results['user.user_id']).toBe('neighbour');
    const stillOne = await t.admin.delete('/api/v2/users/owner');
    expect(stillOne.status).toBe(409);
    expect(stillOne.body.messages[0].localizedMessage).toBe('User owner still owns 1 device(s); delete or reassign them first');
    expect((await t.admin.delete(`/api/v2/devices/${owned[1]}`)).status).toBe(200);
    const res = await t.admin.delete('/api/v2/users/owner');
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual({ userId: 'owner', deleted: true });
    expect((await t.admin.get('/api/v2/users/owner')).status).toBe(404);
    // The neighbour's devices, the moved one included, are untouched.
    expect((await t.admin.delete('/api/v2/users/neighbour')).body.messages[0].localizedMessage).toMatch(/still owns 2 device\(s\)/);
  });
});
