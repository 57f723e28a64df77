// Every AnyConnect endpoint answers malformed input with a 4xx envelope (never 500) and leaves
// the head-end tables exactly as they were.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
const api = '/api/v2/anyconnect';
const ids: Record<string, number> = {};

beforeAll(async () => {
  t = await startTestApp();
  ids.policy = (
    await t.admin.post(`${api}/perapp-policies`).send({ name: 'P1', rules: [{ platform: 'iOS', appId: '*.*' }] })
  ).body.results.id;
  ids.gp = (await t.admin.post(`${api}/group-policies`).send({ name: 'GP1', perapp: { policy: 'P1' } })).body.results.id;
  ids.tg = (await t.admin.post(`${api}/tunnel-groups`).send({ name: 'TG1', defaultGroupPolicy: 'GP1' })).body.results.id;
  ids.dap = (await t.admin.post(`${api}/dap-records`).send({ name: 'D1', perapp: { policy: 'P1' } })).body.results.id;
});
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

async function snapshot() {
  const db = t.services.db;
  return JSON.stringify(
    await Promise.all([
      db.perAppPolicy.findMany(),
      db.groupPolicy.findMany(),
      db.tunnelGroup.findMany(),
      db.dapRecord.findMany(),
      db.headEndSettings.findMany(),
      db.auditEvent.count(),
    ]),
  );
}

const garbage: unknown[] = [
  null,
  [],
  'text',
  42,
  true,
  {},
  { unexpected: 1 },
  { name: 'x'.repeat(5000) },
  { name: "x'); DROP TABLE DapRecord; --" },
  { name: 'ok', rules: 'all' },
];

const writes: Array<[method: 'post' | 'put', url: () => string]> = [
  ['post', () => `${api}/perapp-policies`],
  ['put', () => `${api}/perapp-policies/${ids.policy}`],
  ['post', () => `${api}/perapp-policies/decode`],
  ['post', () => `${api}/group-policies`],
  ['put', () => `${api}/group-policies/${ids.gp}`],
  ['post', () => `${api}/tunnel-groups`],
  ['put', () => `${api}/tunnel-groups/${ids.tg}`],
  ['post', () => `${api}/dap-records`],
  ['put', () => `${api}/dap-records/${ids.dap}`],
  ['put', () => `${api}/settings`],
  ['post', () => `${api}/asa-config/parse`],
  ['post', () => `${api}/asa-config/import`],
  ['post', () => `${api}/resolve`],
  ['post', () => `${api}/simulate`],
];

describe('malformed input', () => {
  it.each(writes)('%s %s answers 4xx for garbage and changes nothing', async (method, url) => {
    const before = await snapshot();
    for (const body of garbage) {
      const res = await t.admin[method](url()).set('content-type', 'application/json').send(JSON.stringify(body));
      // {} is a valid (empty) update for PUT; everything else must be refused
      if (res.status < 400) {
        const emptyUpdate = method === 'put' && JSON.stringify(body) === '{}';
        const cliString = url().endsWith('/asa-config/parse') && typeof body === 'string'; // a bare JSON string is CLI text
        expect(emptyUpdate || cliString, `${JSON.stringify(body)} → ${res.status}`).toBe(true);
        continue;
      }
      expect(res.status, JSON.stringify(body)).toBeLessThan(500);
      expect(res.body.messages[0]).toMatchObject({ type: 'Error', messageKey: expect.any(String), localizedMessage: expect.any(String) });
    }
    if (method === 'post') expect(await snapshot()).toBe(before);
  });

  it('answers 4xx for bad ids and query values', async () => {
    for (const url of [
      `${api}/perapp-policies/abc`,
      `${api}/perapp-policies/-1`,
      `${api}/perapp-policies/1.5`,
      `${api}/perapp-policies/99999999999`,
      `${api}/perapp-policies/${ids.policy}/blob?compression=bzip2`,
      `${api}/dap-records?sortField=secret`,
      `${api}/tunnel-groups?limit=100000`,
    ]) {
      const res = await t.admin.get(url);
      expect(res.status, url).toBeGreaterThanOrEqual(400);
      expect(res.status, url).toBeLessThan(500);
    }
  });

  it('treats hostile CLI and blobs as data', async () => {
    const before = await snapshot();
    const cases = [
      'dynamic-access-policy-record\n',
      '! mockiron dap-criteria NOPE aaa aaa.x EQ "y"\n',
      `anyconnect-custom-data perapp P ${'A'.repeat(500)}\n`,
      ' indented first\n',
      'group-policy GP attributes\n anyconnect-custom perapp value ../../etc\n',
    ];
    for (const cli of cases) {
      const res = await t.admin.post(`${api}/asa-config/parse`).set('content-type', 'text/plain').send(cli);
      expect(res.status, JSON.stringify(cli)).toBeGreaterThanOrEqual(400);
      expect(res.status, JSON.stringify(cli)).toBeLessThan(500);
    }
    for (const blob of ['', '====', 'eJ', 'A'.repeat(4096), 'eJwrSS0uUTA0MjY1MTE2MDE1AQAeTgO0']) {
      const res = await t.admin.post(`${api}/perapp-policies/decode`).send({ blob });
      expect(res.status, blob.slice(0, 20)).toBe(400);
      expect(res.body.messages[0].field).toBe('blob');
    }
    expect(await snapshot()).toBe(before);
  });

  it('documents every AnyConnect route in the OpenAPI document', async () => {
    const res = await t.anon.get('/api/v2/openapi.json');
    expect(res.status).toBe(200);
    const paths = Object.keys(res.body.paths).filter((p) => p.startsWith('/api/v2/anyconnect'));
    expect(paths).toEqual(
      expect.arrayContaining([
        '/api/v2/anyconnect/perapp-policies/{id}/blob',
        '/api/v2/anyconnect/dap-records/{id}',
        '/api/v2/anyconnect/simulate',
        '/api/v2/anyconnect/asa-config/parse',
      ]),
    );
  });
});
