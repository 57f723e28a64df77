// The seed demo's REST walkthrough (examples/seed-vpndemo/README.md), run exactly as written by
// bash with curl and jq — clients nobody here wrote — against a real server over real HTTP and a
// real SQLite database. Issue #20: its last step, /anyconnect/simulate for the app MobileIron did
// not bind, used to answer "400 tunnelGroup: is required" although the device's AnyConnect VPN
// configuration names the group the device connects with; Cisco's AnyConnect connects with the
// connection profile (tunnel group) of the VPN configuration the MDM delivered, whichever app's
// traffic is then judged ("AnyConnect PerApp VPN — How to Implement PerApp for iOS devices with
// MobileIron MDM/EMM", the guide this demo replays).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminPassword, startTestApp, type TestApp } from '../helpers/app.js';
import { ROOT } from '../helpers/cli.js';

let t: TestApp;
let server: Server;
let base: string;

beforeAll(async () => {
  t = await startTestApp();
  server = t.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  base = `http://127.0.0.1:${address.port}/api/v2`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await t.close();
});

function walkthrough(): string {
  const readme = readFileSync(join(ROOT, 'examples/seed-vpndemo/README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## The same demo through the REST API'));
  return /```sh\n([\s\S]*?)```/.exec(section)![1]!;
}

/** bash in a child process, asynchronously: the server answering curl runs in this one. */
function bash(script: string, env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('bash', ['-c', script], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('examples/seed-vpndemo/README.md: the REST walkthrough', () => {
  it('runs as written; Chrome tunnels and the unbound Jump Desktop does not, with the tunnel group from the device', async () => {
    const r = await bash(walkthrough(), { A: base, AUTH: `-u admin:${adminPassword}` });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.at(-2)).toBe('{"tunneled":true,"mode":"perApp"}');
    expect(lines.at(-1)).toBe('{"tunneled":false,"mode":"perApp"}');
    expect(r.stdout).toMatch(/anyconnect-custom-data perapp iOS_Wildcard_Policy /);

    // what the last step said, and why
    const device = (await t.admin.get('/api/v2/devices?limit=10')).body;
    const uuid: string = device.results.at(-1)['common.uuid'];
    const res = await t.admin.post('/api/v2/anyconnect/simulate').send({ deviceUuid: uuid, app: { appId: 'com.p5sys.jumpdesktop' } });
    expect(res.status).toBe(200);
    expect(res.body.results.session.tunnelGroup).toBe('vpndemo');
    expect(res.body.results.reasons).toContain(
      "tunnel group 'vpndemo' taken from the device's AnyConnect VPN configuration 'vpndemo-external' (group vpndemo)",
    );
  });

  it('two AnyConnect configurations with different groups on the device: the request must name the group, and the 400 lists them', async () => {
    const label = await t.admin.post('/api/v2/labels').send({ name: 'second-vpn', static: true });
    const vpn = await t.admin
      .post('/api/v2/configurations/vpn')
      .send({ name: 'second', connectionType: 'ANYCONNECT', server: 'asa2.example.com', group: 'other', perApp: true });
    expect(vpn.status).toBe(201);
    expect((await t.admin.put(`/api/v2/configurations/vpn/${vpn.body.results.id}/labels/${label.body.results.id}`)).status).toBe(200);
    const ipad = await t.admin.post('/api/v2/devices').send({ platform: 'iOS', osVersion: '9.3.1', model: 'iPad4,1' });
    const uuid = ipad.body.results['common.uuid'];
    for (const name of ['vpndemo-external', 'second-vpn']) {
      expect((await t.admin.put(`/api/v2/devices/labels/${name}/add`).send({ deviceUuids: [uuid] })).status).toBe(200);
    }
    const ambiguous = await t.admin.post('/api/v2/anyconnect/simulate').send({ deviceUuid: uuid, app: { appId: 'com.p5sys.jumpdesktop' } });
    expect(ambiguous.status).toBe(400);
    expect(JSON.stringify(ambiguous.body)).toContain("'vpndemo-external' (group vpndemo), 'second' (group other)");
    // a bound app still takes its own configuration's group
    const bound = await t.admin.post('/api/v2/anyconnect/simulate').send({ deviceUuid: uuid, app: { appId: 'com.google.chrome.ios' } });
    expect(bound.status).toBe(200);
    expect(bound.body.results.session.tunnelGroup).toBe('vpndemo');
    const named = await t.admin
      .post('/api/v2/anyconnect/simulate')
      .send({ deviceUuid: uuid, tunnelGroup: 'vpndemo', app: { appId: 'com.p5sys.jumpdesktop' } });
    expect(named.status).toBe(200);
  });
});
