import { anyconnectResultSchemas } from '../../src/anyconnect/routes.js';
import { deflateRawSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

const api = '/api/v2/anyconnect';
const firstMessage = (res: { body: { messages: Array<Record<string, unknown>> } }) => res.body.messages[0]!;

describe('PerApp policies', () => {
  let id: number;
  const rules = [
    { platform: 'Android', appId: 'com.android.chrome', minVersion: '100.0' },
    { platform: 'iOS', appId: 'com.cisco.*', friendlyName: 'Cisco apps' },
  ];

  it('creates, reads and lists a policy (rules normalized: iOS first)', async () => {
    const res = await t.admin.post(`${api}/perapp-policies`).send({ name: 'Corp_Apps', description: 'corporate', rules });
    expect(res.status).toBe(201);
    id = res.body.results.id;
    expect(res.body.results).toMatchObject({
      name: 'Corp_Apps',
      description: 'corporate',
      rules: [rules[1], rules[0]],
      usedBy: { groupPolicies: [], dapRecords: [] },
    });
    expect((await t.admin.get(`${api}/perapp-policies/${id}`)).body.results.name).toBe('Corp_Apps');
    const list = await t.admin.get(`${api}/perapp-policies?sortField=name`);
    expect(list.body).toMatchObject({ totalCount: 1, resultCount: 1, hasMore: false });
  });

  it('names the bad rule index as the field, with the hint for a lone *', async () => {
    const res = await t.admin.post(`${api}/perapp-policies`).send({
      name: 'Bad',
      rules: [
        { platform: 'iOS', appId: 'com.ok.app' },
        { platform: 'iOS', appId: 'com.ok.*' },
        { platform: 'iOS', appId: '*' },
      ],
    });
    expect(res.status).toBe(400);
    expect(firstMessage(res)).toMatchObject({ field: 'rules.2.appId', localizedMessage: expect.stringMatching(/use '\*\.\*'/) });
    const mid = await t.admin.post(`${api}/perapp-policies`).send({ name: 'Bad', rules: [{ platform: 'iOS', appId: 'com.*.app' }] });
    expect(firstMessage(mid)).toMatchObject({ field: 'rules.0.appId', localizedMessage: expect.stringMatching(/last character/) });
    // every problem is reported, not only the first
    const many = await t.admin.post(`${api}/perapp-policies`).send({
      name: 'Bad',
      rules: [
        { platform: 'iOS', appId: 'x' },
        { platform: 'Windows', appId: 'com.a.b' },
      ],
    });
    expect(many.body.messages.map((m: { field: string }) => m.field)).toEqual(['rules.0.appId', 'rules.1.platform']);
    const unknown = await t.admin.post(`${api}/perapp-policies`).send({ name: 'Bad', rules: [], extra: 1 });
    expect(unknown.status).toBe(400);
    expect(firstMessage(unknown).localizedMessage).toMatch(/unknown field\(s\): extra/);
    const badName = await t.admin.post(`${api}/perapp-policies`).send({ name: 'has space', rules: [] });
    expect(firstMessage(badName).field).toBe('name');
    expect((await t.admin.post(`${api}/perapp-policies`).send({ name: 'Corp_Apps', rules: [] })).status).toBe(409);
  });

  it('updates and 404s', async () => {
    const res = await t.admin.put(`${api}/perapp-policies/${id}`).send({ rules: [{ platform: 'iOS', appId: '*.*' }] });
    expect(res.status).toBe(200);
    expect(res.body.results.rules).toEqual([{ platform: 'iOS', appId: '*.*' }]);
    expect((await t.admin.get(`${api}/perapp-policies/999999`)).status).toBe(404);
    expect((await t.admin.put(`${api}/perapp-policies/999999`).send({ description: 'x' })).status).toBe(404);
    expect((await t.admin.delete(`${api}/perapp-policies/999999`)).status).toBe(404);
    expect((await t.admin.get(`${api}/perapp-policies/abc`)).status).toBe(400);
  });

  it('round-trips the blob and decodes zlib, gzip, raw deflate and line-broken blobs', async () => {
    await t.admin.put(`${api}/perapp-policies/${id}`).send({ rules });
    const res = await t.admin.get(`${api}/perapp-policies/${id}/blob`);
    expect(res.status).toBe(200);
    const { blob, compression, asaLines } = res.body.results;
    expect(compression).toBe('zlib');
    expect(blob).toMatch(/^eJ/);
    expect(asaLines.join('')).toContain('anyconnect-custom-data perapp Corp_Apps ');
    const expected = [rules[1], rules[0]];
    const decoded = await t.admin.post(`${api}/perapp-policies/decode`).send({ blob });
    expect(decoded.body.results).toMatchObject({ rules: expected, compression: 'zlib' });

    const xml = Buffer.from(decoded.body.results.xml, 'utf8');
    for (const [kind, b64] of [
      ['gzip', gzipSync(xml).toString('base64')],
      ['raw', deflateRawSync(xml).toString('base64')],
    ] as const) {
      const r = await t.admin.post(`${api}/perapp-policies/decode`).send({ blob: b64 });
      expect(r.body.results, kind).toMatchObject({ rules: expected, compression: kind });
    }
    const gz = await t.admin.get(`${api}/perapp-policies/${id}/blob?compression=gzip`);
    expect(gz.body.results.blob).toMatch(/^H4sI/);
    const broken = blob.replace(/(.{20})/g, '$1\r\n  ');
    expect((await t.admin.post(`${api}/perapp-policies/decode`).send({ blob: broken })).body.results.rules).toEqual(expected);
  });

  it('refuses corrupt and non-Base64 blobs with 400 naming the stage', async () => {
    const notB64 = await t.admin.post(`${api}/perapp-policies/decode`).send({ blob: 'eJ*not base64' });
    expect(notB64.status).toBe(400);
    expect(firstMessage(notB64)).toMatchObject({ field: 'blob', stage: 'base64' });
    const corrupt = await t.admin
      .post(`${api}/perapp-policies/decode`)
      .send({ blob: Buffer.from('definitely not deflate data!').toString('base64') });
    expect(corrupt.status).toBe(400);
    expect(firstMessage(corrupt).stage).toBe('compression');
    const notPolicy = await t.admin
      .post(`${api}/perapp-policies/decode`)
      .send({ blob: gzipSync(Buffer.from('<html/>')).toString('base64') });
    expect(firstMessage(notPolicy).stage).toBe('format');
    expect((await t.admin.post(`${api}/perapp-policies/decode`).send({})).status).toBe(400);
    expect((await t.admin.post(`${api}/perapp-policies/decode`).send({ blob: 42 })).status).toBe(400);
  });
});

describe('group policies, tunnel groups, DAP records: references', () => {
  let policyId: number;
  let gpId: number;
  let tgId: number;
  let dapId: number;

  it('refuses references to unknown PerApp policies and group policies (400 naming field and name)', async () => {
    policyId = (await t.admin.post(`${api}/perapp-policies`).send({ name: 'Ref_Policy', rules: [{ platform: 'iOS', appId: '*.*' }] })).body
      .results.id;
    const gp = await t.admin.post(`${api}/group-policies`).send({ name: 'GP_ref', perapp: { policy: 'Nope' } });
    expect(gp.status).toBe(400);
    expect(firstMessage(gp)).toMatchObject({ field: 'perapp', localizedMessage: expect.stringMatching(/'Nope'/) });
    const tg = await t.admin.post(`${api}/tunnel-groups`).send({ name: 'TG_ref', defaultGroupPolicy: 'GP_missing' });
    expect(tg.status).toBe(400);
    expect(firstMessage(tg)).toMatchObject({ field: 'defaultGroupPolicy', localizedMessage: expect.stringMatching(/'GP_missing'/) });
    const dap = await t.admin.post(`${api}/dap-records`).send({ name: 'DAP_ref', perapp: { policy: 'Nope' } });
    expect(firstMessage(dap)).toMatchObject({ field: 'perapp', localizedMessage: expect.stringMatching(/'Nope'/) });
    const badSetting = await t.admin.post(`${api}/group-policies`).send({ name: 'GP_x', perapp: 'all' });
    expect(firstMessage(badSetting).field).toBe('perapp');
  });

  it('creates linked objects; DfltGrpPolicy is always there', async () => {
    const gp = await t.admin.post(`${api}/group-policies`).send({ name: 'GP_ref', perapp: { policy: 'Ref_Policy' } });
    expect(gp.status).toBe(201);
    gpId = gp.body.results.id;
    expect(gp.body.results.perapp).toEqual({ policy: 'Ref_Policy' });
    const tg = await t.admin.post(`${api}/tunnel-groups`).send({ name: 'TG_ref', defaultGroupPolicy: 'GP_ref' });
    expect(tg.status).toBe(201);
    tgId = tg.body.results.id;
    const dflt = await t.admin.post(`${api}/tunnel-groups`).send({ name: 'TG_default' });
    expect(dflt.body.results.defaultGroupPolicy).toBe('DfltGrpPolicy');
    const dap = await t.admin.post(`${api}/dap-records`).send({
      name: 'DAP_ref',
      priority: 5,
      endpointCriteria: [{ attribute: 'endpoint.anyconnect.platform', operator: 'EQ', value: 'ios' }],
      perapp: { policy: 'Ref_Policy' },
    });
    expect(dap.status).toBe(201);
    dapId = dap.body.results.id;
    expect(dap.body.results).toMatchObject({ action: 'continue', aaaMode: 'ANY', aaaCriteria: [], perapp: { policy: 'Ref_Policy' } });
    expect(dap.body.results.warnings[0]).toMatch(/^endpointCriteria\.0: AnyConnect never reports platform 'ios'/);
    const policy = await t.admin.get(`${api}/perapp-policies/${policyId}`);
    expect(policy.body.results.usedBy).toEqual({ groupPolicies: ['GP_ref'], dapRecords: ['DAP_ref'] });
  });

  it('validates DAP criteria and enums', async () => {
    const cases = [
      [
        { name: 'D1', endpointCriteria: [{ attribute: 'endpoint.anyconnect.devicetype', operator: 'GT', value: 'iPad' }] },
        'endpointCriteria.0',
      ],
      [{ name: 'D2', aaaCriteria: [{ attribute: 'endpoint.anyconnect.platform', operator: 'EQ', value: 'x' }] }, 'aaaCriteria.0'],
      [{ name: 'D3', action: 'explode' }, 'action'],
      [{ name: 'D4', priority: -1 }, 'priority'],
      [{ name: 'D5', aaaMode: 'SOME' }, 'aaaMode'],
      [{ name: 'D6', aaaCriteria: [{ attribute: 'aaa.ldap.memberOf', operator: 'XX', value: 'x' }] }, 'aaaCriteria.0.operator'],
      [{ name: 'D7', description: 'say "hi"' }, 'description'],
    ] as const;
    for (const [body, field] of cases) {
      const res = await t.admin.post(`${api}/dap-records`).send(body);
      expect(res.status, field).toBe(400);
      expect(firstMessage(res).field, JSON.stringify(res.body)).toBe(field);
    }
  });

  it('refuses to delete a referenced PerApp policy or group policy (409 naming who)', async () => {
    const delPolicy = await t.admin.delete(`${api}/perapp-policies/${policyId}`);
    expect(delPolicy.status).toBe(409);
    expect(firstMessage(delPolicy).localizedMessage).toMatch(/group policies 'GP_ref' and DAP records 'DAP_ref'/);
    const delGp = await t.admin.delete(`${api}/group-policies/${gpId}`);
    expect(delGp.status).toBe(409);
    expect(firstMessage(delGp).localizedMessage).toMatch(/tunnel groups 'TG_ref'/);
  });

  it('carries renames to the objects that name the renamed one', async () => {
    const renamed = await t.admin.put(`${api}/perapp-policies/${policyId}`).send({ name: 'Ref_Policy2' });
    expect(renamed.status).toBe(200);
    expect(renamed.body.results.usedBy).toEqual({ groupPolicies: ['GP_ref'], dapRecords: ['DAP_ref'] });
    expect((await t.admin.get(`${api}/dap-records/${dapId}`)).body.results.perapp).toEqual({ policy: 'Ref_Policy2' });
    const gp = await t.admin.put(`${api}/group-policies/${gpId}`).send({ name: 'GP_ref2' });
    expect(gp.body.results).toMatchObject({ name: 'GP_ref2', perapp: { policy: 'Ref_Policy2' }, usedBy: { tunnelGroups: ['TG_ref'] } });
    expect((await t.admin.get(`${api}/tunnel-groups/${tgId}`)).body.results.defaultGroupPolicy).toBe('GP_ref2');
  });

  it('deletes once the references are gone', async () => {
    expect((await t.admin.put(`${api}/tunnel-groups/${tgId}`).send({ defaultGroupPolicy: 'DfltGrpPolicy' })).status).toBe(200);
    expect((await t.admin.delete(`${api}/group-policies/${gpId}`)).status).toBe(200);
    expect((await t.admin.put(`${api}/dap-records/${dapId}`).send({ perapp: 'none' })).body.results.perapp).toBe('none');
    expect((await t.admin.delete(`${api}/perapp-policies/${policyId}`)).status).toBe(200);
    for (const path of [`tunnel-groups/${tgId}`, `dap-records/${dapId}`]) {
      expect((await t.admin.delete(`${api}/${path}`)).status).toBe(200);
      expect((await t.admin.get(`${api}/${path}`)).status).toBe(404);
    }
    const tgs = await t.admin.get(`${api}/tunnel-groups`);
    for (const tg of tgs.body.results) await t.admin.delete(`${api}/tunnel-groups/${tg.id}`);
  });

  it('audits writes', async () => {
    const audit = await t.admin.get('/api/v2/audit?objectType=perappPolicy&limit=200');
    expect(audit.status).toBe(200);
    expect(audit.body.results.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['create', 'update', 'delete']));
  });
});

describe('settings', () => {
  it('reads defaults and updates', async () => {
    expect((await t.admin.get(`${api}/settings`)).body.results).toEqual({
      dapOrder: 'asa',
      perappAttrDescription: 'Per-App Allow',
      trustpoints: [],
    });
    const res = await t.admin.put(`${api}/settings`).send({ dapOrder: 'ftd' });
    expect(res.body.results).toEqual({ dapOrder: 'ftd', perappAttrDescription: 'Per-App Allow', trustpoints: [] });
    expect((await t.admin.put(`${api}/settings`).send({ dapOrder: 'pix' })).status).toBe(400);
    expect((await t.admin.put(`${api}/settings`).send({ dapOrder: 'asa' })).status).toBe(200);
  });
});

/** Creates a head-end and returns helpers to clean it up; each describe starts from an empty head-end. */
async function clearHeadEnd() {
  for (const kind of ['dap-records', 'tunnel-groups', 'group-policies', 'perapp-policies']) {
    const list = await t.admin.get(`${api}/${kind}?limit=200`);
    for (const row of list.body.results) expect((await t.admin.delete(`${api}/${kind}/${row.id}`)).status).toBe(200);
  }
  await t.admin.put(`${api}/settings`).send({ dapOrder: 'asa', perappAttrDescription: 'Per-App Allow' });
}

describe('ASA CLI', () => {
  beforeAll(clearHeadEnd);

  it('renders the head-end with short lines even for a big policy', async () => {
    const big = Array.from({ length: 120 }, (_, i) => ({
      platform: 'iOS',
      appId: `com.example.team${i}.app${i * 7919}`,
      friendlyName: `Example app number ${i}`,
    }));
    await t.admin.post(`${api}/perapp-policies`).send({ name: 'Big_Policy', rules: big });
    await t.admin.post(`${api}/group-policies`).send({ name: 'GP_big', perapp: { policy: 'Big_Policy' } });
    await t.admin.post(`${api}/group-policies`).send({ name: 'GP_none', perapp: 'none' });
    await t.admin.post(`${api}/tunnel-groups`).send({ name: 'TG_big', defaultGroupPolicy: 'GP_big' });
    await t.admin.post(`${api}/dap-records`).send({
      name: 'DAP_big',
      description: 'iOS devices',
      priority: 7,
      endpointCriteria: [{ attribute: 'endpoint.anyconnect.platform', operator: 'EQ', value: 'apple-ios' }],
      perapp: { policy: 'Big_Policy' },
    });
    const res = await t.admin.get(`${api}/asa-config`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const lines: string[] = res.text.split('\n');
    expect(lines).toContain('webvpn');
    expect(lines).toContain(' anyconnect-custom-attr perapp description Per-App Allow');
    const data = lines.filter((l) => l.startsWith('anyconnect-custom-data perapp Big_Policy '));
    expect(data.length).toBeGreaterThan(1);
    expect(lines).toContain('group-policy GP_big attributes');
    expect(lines).toContain(' anyconnect-custom perapp value Big_Policy');
    expect(lines).toContain(' anyconnect-custom perapp none');
    expect(lines).toContain('dynamic-access-policy-record DAP_big');
    for (const line of lines) expect(line.length, line.slice(0, 60)).toBeLessThanOrEqual(420);
    // the chunks joined are the policy's blob
    const blob = (await t.admin.get(`${api}/perapp-policies/${(await t.admin.get(`${api}/perapp-policies`)).body.results[0].id}/blob`)).body
      .results.blob;
    expect(data.map((l) => l.split(' ')[3]).join('')).toBe(blob);
  });

  it('parses CLI (text/plain or {"text"}) back to the same config without storing it', async () => {
    const cli = (await t.admin.get(`${api}/asa-config`)).text;
    const headEndResults = (await t.admin.get(`${api}/headend`)).body.results;
    expect(anyconnectResultSchemas.headEnd.parse(headEndResults)).toEqual(headEndResults);
    const headEnd = headEndResults.config;
    const res = await t.admin.post(`${api}/asa-config/parse`).set('content-type', 'text/plain').send(cli);
    expect(res.status).toBe(200);
    expect(res.body.results.config).toEqual(headEnd);
    expect(res.body.results.issues).toEqual([]);
    const json = await t.admin.post(`${api}/asa-config/parse`).send({ text: cli.replaceAll('Big_Policy', 'Big_Polic2') });
    expect(json.body.results.config.perappPolicies[0].name).toBe('Big_Polic2');
    expect((await t.admin.get(`${api}/perapp-policies`)).body.results.map((p: { name: string }) => p.name)).toEqual(['Big_Policy']);
  });

  it('names the line on parse errors', async () => {
    const cli = [
      'webvpn',
      ' anyconnect-custom-attr perapp description x',
      'group-policy GP1 attributes',
      ' anyconnect-custom perapp value',
      '!',
    ].join('\n');
    const res = await t.admin.post(`${api}/asa-config/parse`).set('content-type', 'text/plain').send(cli);
    expect(res.status).toBe(400);
    expect(firstMessage(res)).toMatchObject({ line: 4, localizedMessage: expect.stringMatching(/^line 4: /) });
    const blob = await t.admin
      .post(`${api}/asa-config/parse`)
      .set('content-type', 'text/plain')
      .send('anyconnect-custom-data perapp P1 eJ@@@@\n');
    expect(firstMessage(blob)).toMatchObject({ line: 1, localizedMessage: expect.stringMatching(/not Base64/) });
    expect((await t.admin.post(`${api}/asa-config/parse`).send({ cli: 'x' })).status).toBe(400);
    expect((await t.admin.post(`${api}/asa-config/parse`).send([1, 2])).status).toBe(400);
  });

  it('imports CLI in one transaction, refusing an inconsistent one', async () => {
    const cli = (await t.admin.get(`${api}/asa-config`)).text;
    const dangling = cli.replace(' anyconnect-custom perapp value Big_Policy', ' anyconnect-custom perapp value Ghost');
    const bad = await t.admin.post(`${api}/asa-config/import`).set('content-type', 'text/plain').send(dangling);
    expect(bad.status).toBe(400);
    expect(firstMessage(bad).localizedMessage).toMatch(/Ghost/);
    const empty = await t.admin.post(`${api}/asa-config/import`).set('content-type', 'text/plain').send('hostname asa\n');
    expect(empty.status).toBe(400);
    expect(firstMessage(empty).localizedMessage).toMatch(/nothing was imported/);
    const renamed = cli.replaceAll('GP_none', 'GP_none2');
    const ok = await t.admin.post(`${api}/asa-config/import`).set('content-type', 'text/plain').send(renamed);
    expect(ok.status).toBe(200);
    expect(ok.body.results.imported).toEqual({ perappPolicies: 1, groupPolicies: 2, tunnelGroups: 1, dapRecords: 1 });
    const gps = (await t.admin.get(`${api}/group-policies`)).body.results.map((g: { name: string }) => g.name);
    expect(gps.sort()).toEqual(['GP_big', 'GP_none2']);
  });
});

describe('DAP precedence through /resolve and /simulate', () => {
  beforeAll(async () => {
    await clearHeadEnd();
    for (const name of ['AllowAll', 'CorpOnly', 'GP_Policy']) {
      const rules =
        name === 'AllowAll'
          ? [
              { platform: 'iOS', appId: '*.*' },
              { platform: 'Android', appId: '*.*' },
            ]
          : [{ platform: 'Android', appId: 'com.corp.mail' }];
      expect((await t.admin.post(`${api}/perapp-policies`).send({ name, rules })).status).toBe(201);
    }
    await t.admin.post(`${api}/group-policies`).send({ name: 'GP_main', perapp: { policy: 'GP_Policy' } });
    await t.admin.post(`${api}/tunnel-groups`).send({ name: 'TG_main', defaultGroupPolicy: 'GP_main' });
    await t.admin.post(`${api}/dap-records`).send({
      name: 'DAP_ios',
      priority: 10,
      perapp: { policy: 'AllowAll' },
      endpointCriteria: [
        { attribute: 'endpoint.anyconnect.platform', operator: 'EQ', value: 'apple-ios' },
        { attribute: 'endpoint.anyconnect.platformversion', operator: 'GE', value: '9.3.1' },
      ],
    });
    await t.admin.post(`${api}/dap-records`).send({ name: 'DAP_all', priority: 5, perapp: { policy: 'CorpOnly' } });
  });

  const ios = {
    tunnelGroup: 'TG_main',
    endpoint: { 'endpoint.anyconnect.platform': 'apple-ios', 'endpoint.anyconnect.platformversion': '9.3.1' },
  };

  it('ASA order: the higher priority number wins; FTD order: the lower', async () => {
    const asa = await t.admin.post(`${api}/resolve`).send(ios);
    expect(asa.status).toBe(200);
    expect(asa.body.results).toMatchObject({ perappPolicy: 'AllowAll', source: 'dap', sourceName: 'DAP_ios', mode: 'perApp' });
    expect(asa.body.results.selectedDapRecords.map((r: { name: string }) => r.name)).toEqual(['DAP_ios', 'DAP_all']);
    // The answer is exactly what the OpenAPI document describes (parsing drops undocumented keys)
    expect(anyconnectResultSchemas.resolve.parse(asa.body.results)).toEqual(asa.body.results);
    await t.admin.put(`${api}/settings`).send({ dapOrder: 'ftd' });
    const ftd = await t.admin.post(`${api}/resolve`).send(ios);
    expect(ftd.body.results).toMatchObject({ perappPolicy: 'CorpOnly', sourceName: 'DAP_all' });
    await t.admin.put(`${api}/settings`).send({ dapOrder: 'asa' });
    // Android only matches DAP_all; short endpoint keys are accepted
    const android = await t.admin.post(`${api}/resolve`).send({ tunnelGroup: 'TG_main', endpoint: { platform: 'android' } });
    expect(android.body.results.perappPolicy).toBe('CorpOnly');
  });

  it('DAP perapp none overrides the group policy (full tunnel); unset falls through to it', async () => {
    const all = (await t.admin.get(`${api}/dap-records`)).body.results.find((r: { name: string }) => r.name === 'DAP_all');
    await t.admin.put(`${api}/dap-records/${all.id}`).send({ perapp: 'none' });
    const none = await t.admin.post(`${api}/resolve`).send({ tunnelGroup: 'TG_main', endpoint: { platform: 'android' } });
    expect(none.body.results).toMatchObject({ mode: 'full', perappPolicy: null, source: 'dap', sourceName: 'DAP_all' });
    const sim = await t.admin
      .post(`${api}/simulate`)
      .send({ tunnelGroup: 'TG_main', platform: 'Android', app: { appId: 'com.random.game' } });
    expect(sim.body.results).toMatchObject({ tunneled: true, mode: 'full' });
    await t.admin.put(`${api}/dap-records/${all.id}`).send({ perapp: null });
    const unset = await t.admin.post(`${api}/resolve`).send({ tunnelGroup: 'TG_main', endpoint: { platform: 'android' } });
    expect(unset.body.results).toMatchObject({
      mode: 'perApp',
      perappPolicy: 'GP_Policy',
      source: 'tunnel-group-default',
      sourceName: 'GP_main',
    });
    await t.admin.put(`${api}/dap-records/${all.id}`).send({ perapp: { policy: 'CorpOnly' } });
  });

  it('terminate wins; AAA criteria see lists (memberOf)', async () => {
    const term = await t.admin.post(`${api}/dap-records`).send({
      name: 'DAP_block',
      priority: 1,
      action: 'terminate',
      aaaCriteria: [{ attribute: 'aaa.ldap.memberOf', operator: 'EQ', value: 'Blocked' }],
    });
    expect(term.status).toBe(201);
    const res = await t.admin
      .post(`${api}/resolve`)
      .send({ ...ios, aaa: { 'aaa.cisco.username': 'eve', 'aaa.ldap.memberOf': ['Staff', 'Blocked'] } });
    expect(res.body.results).toMatchObject({ terminated: true, source: 'dap', sourceName: 'DAP_block' });
    const sim = await t.admin.post(`${api}/simulate`).send({
      ...ios,
      platform: 'iOS',
      aaa: { 'aaa.ldap.memberOf': 'Blocked' },
      app: { appId: 'com.google.chrome.ios' },
      mdmBinding: { managed: true, vpnUuid: 'AAAAAAAA-0000-0000-0000-000000000000' },
    });
    expect(sim.body.results).toMatchObject({ tunneled: false, terminated: true });
    expect(sim.body.results.reasons.at(-1)).toMatch(/terminated/);
    const ok = await t.admin.post(`${api}/resolve`).send({ ...ios, aaa: { 'aaa.ldap.memberOf': 'Staff' } });
    expect(ok.body.results.terminated).toBe(false);
    await t.admin.delete(`${api}/dap-records/${term.body.results.id}`);
  });

  it('Android: the ASA policy alone decides, with minVersion', async () => {
    const base = { tunnelGroup: 'TG_main', platform: 'Android', endpoint: { platform: 'android' } };
    const ok = await t.admin.post(`${api}/simulate`).send({ ...base, app: { appId: 'com.corp.mail' } });
    expect(ok.body.results).toMatchObject({ tunneled: true, mode: 'perApp', policy: 'CorpOnly' });
    const no = await t.admin.post(`${api}/simulate`).send({ ...base, app: { appId: 'com.random.game' } });
    expect(no.body.results).toMatchObject({ tunneled: false });
    expect(no.body.results.reasons.at(-1)).toMatch(/^NOT TUNNELED: .*not permitted by the ASA policy 'CorpOnly'/);
  });

  it('fails closed on an unknown tunnel group, with the reason', async () => {
    const res = await t.admin.post(`${api}/resolve`).send({ tunnelGroup: 'TG_ghost', endpoint: {} });
    expect(res.body.results).toMatchObject({ terminated: true, failedClosed: true });
    expect(res.body.results.reasons[0]).toMatch(/TG_ghost.*not configured/);
  });

  it('validates session input', async () => {
    const cases = [
      [{ endpoint: {} }, 'tunnelGroup'],
      [{ tunnelGroup: 'TG_main', aaa: { username: 'x' } }, 'aaa.username'],
      [{ tunnelGroup: 'TG_main', aaa: { 'aaa.x': 5 } }, 'aaa.aaa.x'],
      [{ tunnelGroup: 'TG_main', endpoint: { platform: ['a'] } }, 'endpoint.platform'],
      [{ tunnelGroup: 'TG_main', surprise: true }, 'body'],
    ] as const;
    for (const [body, field] of cases) {
      const res = await t.admin.post(`${api}/resolve`).send(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(String(firstMessage(res).field), JSON.stringify(res.body)).toBe(field);
    }
    const sim = [
      [{ tunnelGroup: 'TG_main', app: { appId: 'com.a.b' } }, 'platform'],
      [{ tunnelGroup: 'TG_main', platform: 'iOS' }, 'app'],
      [{ tunnelGroup: 'TG_main', platform: 'Windows', app: { appId: 'com.a.b' } }, 'platform'],
      [{ tunnelGroup: 'TG_main', platform: 'iOS', app: { appId: '*' } }, 'app.appId'],
      [
        { tunnelGroup: 'TG_main', platform: 'iOS', app: { appId: 'com.a.b' }, mdmBinding: { managed: 'yes', vpnUuid: null } },
        'mdmBinding.managed',
      ],
      [{ deviceUuid: 'not a uuid', app: { appId: 'com.a.b' } }, 'deviceUuid'],
    ] as const;
    for (const [body, field] of sim) {
      const res = await t.admin.post(`${api}/simulate`).send(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(firstMessage(res).field, JSON.stringify(res.body)).toBe(field);
    }
    const unknownDevice = await t.admin
      .post(`${api}/simulate`)
      .send({ deviceUuid: '00000000-0000-0000-0000-000000000000', tunnelGroup: 'TG_main', app: { appId: 'com.a.b' } });
    expect(unknownDevice.status).toBe(404);
  });
});

describe('authorization', () => {
  it('lets a viewer read but not write; anonymous gets 401', async () => {
    await t.admin.post('/api/v2/admins').send({ username: 'ac-viewer', password: 'viewer-password-1', role: 'viewer' });
    const viewer = t.as('ac-viewer', 'viewer-password-1');
    expect((await viewer.get(`${api}/perapp-policies`)).status).toBe(200);
    expect((await viewer.get(`${api}/asa-config`)).status).toBe(200);
    expect((await viewer.post(`${api}/simulate`).send({ tunnelGroup: 'x', platform: 'iOS', app: { appId: 'com.a.b' } })).status).toBe(200);
    const write = await viewer.post(`${api}/perapp-policies`).send({ name: 'Viewer_Policy', rules: [] });
    expect(write.status).toBe(403);
    expect((await viewer.put(`${api}/settings`).send({ dapOrder: 'ftd' })).status).toBe(403);
    expect((await viewer.post(`${api}/asa-config/import`).send({ text: '' })).status).toBe(403);
    expect((await t.anon.get(`${api}/perapp-policies`)).status).toBe(401);
    expect((await t.anon.post(`${api}/simulate`).send({})).status).toBe(401);
  });
});

// The seed guide "AnyConnect PerApp VPN with MobileIron", set up entirely through the API.
describe('seed demo end to end: MobileIron binds Chrome and MS RDP; the ASA sends iOS_Wildcard_Policy via DAP', () => {
  let deviceUuid: string;

  beforeAll(async () => {
    await clearHeadEnd();
    // MobileIron side
    const label = await t.admin.post('/api/v2/labels').send({ name: 'vpndemo-external', static: true });
    expect(label.status).toBe(201);
    const labelId = label.body.results.id;
    const vpn = await t.admin
      .post('/api/v2/configurations/vpn')
      .send({ name: 'vpndemo-external', connectionType: 'ANYCONNECT', server: 'asa.example.com', group: 'vpndemo', perApp: true });
    expect(vpn.status).toBe(201);
    expect((await t.admin.put(`/api/v2/configurations/vpn/${vpn.body.results.id}/labels/${labelId}`)).status).toBe(200);
    for (const [name, bundleId, onLabel] of [
      ['Chrome', 'com.google.chrome.ios', true],
      ['Microsoft Remote Desktop', 'com.microsoft.rdc.ios', true],
      ['Jump Desktop', 'com.p5sys.jumpdesktop', false],
    ] as const) {
      const app = await t.admin.post('/api/v2/appstore/apps').send({ name, bundleId });
      expect(app.status).toBe(201);
      if (onLabel) expect((await t.admin.put(`/api/v2/appstore/apps/${app.body.results.id}/labels/${labelId}`)).status).toBe(200);
    }
    const ipad = await t.admin.post('/api/v2/devices').send({ platform: 'iOS', osVersion: '9.3.1', model: 'iPad4,1' });
    expect(ipad.status).toBe(201);
    deviceUuid = ipad.body.results['common.uuid'];
    expect((await t.admin.put('/api/v2/devices/labels/vpndemo-external/add').send({ deviceUuids: [deviceUuid] })).status).toBe(200);

    // ASA side
    const steps = [
      [
        `${api}/perapp-policies`,
        { name: 'iOS_Wildcard_Policy', rules: [{ platform: 'iOS', appId: '*.*', friendlyName: 'All iOS apps (MDM decides)' }] },
      ],
      [`${api}/group-policies`, { name: 'GP_vpndemo', perapp: null }],
      [`${api}/tunnel-groups`, { name: 'vpndemo', defaultGroupPolicy: 'GP_vpndemo' }],
      [
        `${api}/dap-records`,
        {
          name: 'DAP_iOS_PerApp',
          description: 'iOS 9.3.1 devices get the wildcard PerApp policy',
          priority: 10,
          endpointCriteria: [
            { attribute: 'endpoint.anyconnect.platform', operator: 'EQ', value: 'apple-ios' },
            { attribute: 'endpoint.anyconnect.platformversion', operator: 'EQ', value: '9.3.1' },
          ],
          perapp: { policy: 'iOS_Wildcard_Policy' },
        },
      ],
    ] as const;
    for (const [url, body] of steps) expect((await t.admin.post(url).send(body)).status, url).toBe(201);
  });

  it.each(['com.google.chrome.ios', 'com.microsoft.rdc.ios'])('%s tunnels (perApp)', async (appId) => {
    const res = await t.admin
      .post(`${api}/simulate`)
      .send({ deviceUuid, tunnelGroup: 'vpndemo', aaa: { 'aaa.cisco.username': 'vpndemo-user' }, app: { appId } });
    expect(res.status).toBe(200);
    expect(res.body.results).toMatchObject({
      tunneled: true,
      mode: 'perApp',
      policy: 'iOS_Wildcard_Policy',
      mdmSource: 'device',
      mdm: { required: true, bound: true, binding: { managed: true, vpnConfigName: 'vpndemo-external' } },
      session: {
        endpoint: {
          'endpoint.anyconnect.platform': 'apple-ios',
          'endpoint.anyconnect.platformversion': '9.3.1',
          'endpoint.anyconnect.devicetype': 'iPad4,1',
        },
      },
    });
    expect(res.body.results.dap.map((r: { name: string }) => r.name)).toEqual(['DAP_iOS_PerApp']);
    expect(res.body.results.reasons.at(-1)).toMatch(/^TUNNELED: .*bound by the MDM and permitted by the ASA policy 'iOS_Wildcard_Policy'/);
  });

  it('the third-party RDP app does not tunnel, and the reasons say why', async () => {
    const res = await t.admin.post(`${api}/simulate`).send({ deviceUuid, tunnelGroup: 'vpndemo', app: { appId: 'com.p5sys.jumpdesktop' } });
    expect(res.body.results).toMatchObject({
      tunneled: false,
      mode: 'perApp',
      mdm: { bound: false, binding: { managed: false, vpnUuid: null } },
    });
    expect(res.body.results.permit.permitted).toBe(true); // the wildcard would allow it: the MDM is the only arbiter
    const text = res.body.results.reasons.join('\n');
    expect(text).toMatch(/not delivered to this device by the App Catalog/);
    expect(res.body.results.reasons.at(-1)).toMatch(/^NOT TUNNELED: .*the MDM did not bind it to the per-app VPN/);
  });

  it('takes the tunnel group from the VPN configuration when none is given', async () => {
    const res = await t.admin.post(`${api}/simulate`).send({ deviceUuid, app: { appId: 'com.google.chrome.ios' } });
    expect(res.body.results).toMatchObject({ tunneled: true, session: { tunnelGroup: 'vpndemo' } });
  });

  it('an iPad on 9.3.2 misses the EQ DAP record and runs in full-tunnel mode (bound apps still tunnel)', async () => {
    const res = await t.admin.post(`${api}/simulate`).send({
      deviceUuid,
      tunnelGroup: 'vpndemo',
      endpoint: { 'endpoint.anyconnect.platformversion': '9.3.2' },
      app: { appId: 'com.google.chrome.ios' },
    });
    expect(res.body.results).toMatchObject({ tunneled: true, mode: 'full', policy: null });
  });

  it('renders the seed head-end as ASA CLI', async () => {
    const cli = (await t.admin.get(`${api}/asa-config`)).text;
    expect(cli).toMatch(/^anyconnect-custom-data perapp iOS_Wildcard_Policy eJ/m);
    expect(cli).toMatch(
      /^dynamic-access-policy-record DAP_iOS_PerApp\n description "iOS 9.3.1 devices get the wildcard PerApp policy"\n priority 10\n action continue\n anyconnect-custom perapp value iOS_Wildcard_Policy$/m,
    );
    expect(cli).toMatch(/^tunnel-group vpndemo general-attributes\n default-group-policy GP_vpndemo$/m);
  });
});
