// Runs the command lines in-process through run(argv, io) (test/cli/smoke.test.ts runs the real
// binary). Exit codes: 0 ok / permitted / tunneled, 3 denied / not tunneled, 1 bad input.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'mockiron-anyconnect-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function mockiron(args: string[], input?: string): Promise<CliRun> {
  return runCli(args, { input });
}

function file(name: string, content: string): string {
  const path = join(tmp, name);
  writeFileSync(path, content);
  return path;
}

const SEED = 'examples/seed-vpndemo/headend.yaml';
const SESSION = 'examples/seed-vpndemo/session-ipad.yaml';

describe('mockiron perapp', () => {
  it('encode prints a zlib Base64 blob; decode (stdin, with line breaks) prints the rules back', async () => {
    const enc = await mockiron(['perapp', 'encode', 'examples/perapp-rules.yaml']);
    expect(enc.code).toBe(0);
    const blob = enc.stdout.trim();
    expect(blob).toMatch(/^eJ[A-Za-z0-9+/]+=*$/);
    const dec = await mockiron(['perapp', 'decode', '-'], blob.replace(/(.{30})/g, '$1\n'));
    expect(dec.code).toBe(0);
    expect(dec.stdout).toMatch(/^# compression: zlib\n/);
    expect(dec.stdout).toContain('appId: com.microsoft.rdc.ios');
    expect(dec.stdout).toContain('minVersion: "100.0"');
  });

  it('encode names the file line and rule of each bad rule', async () => {
    const bad = file('bad.yaml', 'rules:\n  - platform: iOS\n    appId: com.ok.app\n  - platform: iOS\n    appId: "*"\n');
    const r = await mockiron(['perapp', 'encode', bad]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/bad\.yaml line 5: rules\[1\]\.appId: a lone '\*' is not an app ID; use '\*\.\*'/);
  });

  it('encode reports YAML syntax errors with the line', async () => {
    const r = await mockiron(['perapp', 'encode', file('broken.yaml', 'rules:\n  - platform: iOS\n   appId: [\n')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/broken\.yaml line \d+: invalid YAML/);
  });

  it('decode rejects a corrupt blob clearly', async () => {
    const r = await mockiron(['perapp', 'decode', 'bm90IGNvbXByZXNzZWQ=']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not zlib, gzip or raw-deflate data/);
  });

  it('check: exit 0 when permitted, 3 when denied, with the reason', async () => {
    const ok = await mockiron(['perapp', 'check', '--policy', 'examples/perapp-rules.yaml', '--app', 'com.cisco.jabber']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^PERMITTED: iOS app 'com\.cisco\.jabber'\nreason: rule #2 \(iOS 'com\.cisco\.\*'/);
    const denied = await mockiron([
      'perapp',
      'check',
      '--policy',
      'examples/perapp-rules.yaml',
      '--app',
      'com.android.chrome',
      '--platform',
      'Android',
      '--app-version',
      '99.1',
    ]);
    expect(denied.code).toBe(3);
    expect(denied.stdout).toMatch(/^DENIED: .*\nreason: .*99\.1 is below the rule's minVersion 100\.0/);
  });

  it('check accepts the blob itself as --policy and prints JSON on request', async () => {
    const blob = (await mockiron(['perapp', 'encode', 'examples/seed-vpndemo/ios-wildcard-rules.yaml'])).stdout.trim();
    const r = await mockiron(['perapp', 'check', '--policy', blob, '--app', 'com.p5sys.jumpdesktop', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ permitted: true, rule: { appId: '*.*' }, policySource: 'blob' });
  });
});

describe('mockiron asa', () => {
  it('render → parse → render is stable through the CLI', async () => {
    const first = await mockiron(['asa', 'render', SEED]);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(
      'dynamic-access-policy-record DAP_iOS_PerApp\n description "iOS 9.3.1 devices get the wildcard PerApp policy"\n priority 10\n',
    );
    const parsed = await mockiron(['asa', 'parse', '-'], first.stdout);
    expect(parsed.code).toBe(0);
    const again = await mockiron(['asa', 'render', '-'], parsed.stdout);
    expect(again.stdout).toBe(first.stdout);
  });

  it('parse errors name the line', async () => {
    const r = await mockiron([
      'asa',
      'parse',
      file('bad.cli', 'webvpn\n anyconnect-custom-attr perapp\n!\ndynamic-access-policy-record D\n priority -4\n'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad\.cli line 5: priority must be a whole number/);
  });

  it('render refuses a config with dangling references and names the path', async () => {
    const r = await mockiron(['asa', 'render', file('dangling.yaml', 'groupPolicies:\n  - name: GP\n    perapp: {policy: Nope}\n')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/groupPolicies\[0\]\.perapp: group policy 'GP' references PerApp policy 'Nope', which is not defined/);
  });

  it('render reports shape errors with the YAML line', async () => {
    const r = await mockiron(['asa', 'render', file('shape.yaml', 'dapRecords:\n  - name: D\n    priority: 5\n    action: drop\n')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/shape\.yaml line 4: dapRecords\[0\]\.action: action must be one of continue, terminate, quarantine/);
  });
});

describe('mockiron anyconnect simulate (the seed demo)', () => {
  it.each(['com.google.chrome.ios', 'com.microsoft.rdc.ios'])('%s tunnels (exit 0)', async (app) => {
    const r = await mockiron(['anyconnect', 'simulate', SEED, '--session', SESSION, '--app', app]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(/^TUNNELED: /);
  });

  it('the unbound third-party RDP app does not tunnel (exit 3) and says why', async () => {
    const r = await mockiron(['anyconnect', 'simulate', SEED, '--session', SESSION, '--app', 'com.p5sys.jumpdesktop']);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/the MDM has not bound 'com\.p5sys\.jumpdesktop' to the per-app VPN/);
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(/^NOT TUNNELED: .*did not bind it/);
  });
});
