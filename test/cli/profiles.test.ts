import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, runCli, type CliRun } from '../helpers/cli.js';

// Runs `mockiron profile …` command lines in-process through run(argv, io) (test/cli/smoke.test.ts
// runs the real binary).
const FIXTURES = 'test/fixtures/signed-profiles';
const tmp = mkdtempSync(join(tmpdir(), 'mockiron-profile-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function mockiron(...args: string[]): Promise<CliRun> {
  return runCli(args);
}

const SPEC = `profile:
  identifier: com.example.cli
  displayName: CLI test
vpnConfigurations:
  - name: vpndemo-external
    connectionType: ANYCONNECT
    server: asa.example.com
    safariDomains: [intranet.example.com]
    vpnUuid: 3c8a0d4e-6a2b-4f0e-9a51-2d7e5b1c9f10
`;

describe('mockiron profile build', () => {
  it('rebuilds every checked-in example in profiles/ byte for byte', async () => {
    const out = join(tmp, 'examples');
    const run = await mockiron('profile', 'build', 'profiles', '-o', out);
    expect(run.stderr).toContain('wrote 6 profile(s)');
    expect(run.code).toBe(0);
    const built = readdirSync(out).sort();
    const checkedIn = readdirSync(join(ROOT, 'profiles'))
      .filter((f) => f.endsWith('.mobileconfig'))
      .sort();
    expect(built).toEqual(checkedIn);
    expect(built).toContain('vpndemo-external.mobileconfig');
    for (const f of built) expect(readFileSync(join(out, f)).equals(readFileSync(join(ROOT, 'profiles', f))), f).toBe(true);
  });

  it('the vpndemo-external example is the seed’s AnyConnect per-app VPN for asa.example.com', () => {
    const xml = readFileSync(join(ROOT, 'profiles/vpndemo-external.mobileconfig'), 'utf8');
    expect(xml).toContain('<string>com.apple.vpn.managed.applayer</string>');
    expect(xml).toContain('<string>com.cisco.anyconnect</string>');
    expect(xml).toContain('<string>asa.example.com</string>');
    expect(xml).toContain('<key>SafariDomains</key>');
    const spec = readFileSync(join(ROOT, 'profiles/vpndemo-external.yaml'), 'utf8');
    expect(spec).toContain('com.google.chrome.ios');
    expect(spec).toContain('com.microsoft.rdc.ios');
  });

  it('builds one spec to a file, to stdout, and as JSON', async () => {
    const spec = join(tmp, 'one.yaml');
    writeFileSync(spec, SPEC);
    const out = join(tmp, 'one.mobileconfig');
    expect((await mockiron('profile', 'build', spec, '-o', out)).code).toBe(0);
    const toStdout = await mockiron('profile', 'build', spec);
    expect(toStdout.stdout).toBe(readFileSync(out, 'utf8'));
    const json = await mockiron('profile', 'build', spec, '--format', 'json');
    const parsed = JSON.parse(json.stdout) as {
      PayloadType: string;
      PayloadContent: Array<{ VPNUUID: string; OnDemandMatchAppEnabled: boolean }>;
    };
    expect(parsed.PayloadType).toBe('Configuration');
    expect(parsed.PayloadContent[0]).toMatchObject({ VPNUUID: '3c8a0d4e-6a2b-4f0e-9a51-2d7e5b1c9f10', OnDemandMatchAppEnabled: true });
    const otherNs = await mockiron('profile', 'build', spec, '--namespace', '6ba7b810-9dad-11d1-80b4-00c04fd430c8');
    expect(otherNs.stdout).not.toBe(toStdout.stdout);
  });

  it('rejects a bad spec with file:line:col and key path, writing nothing', async () => {
    const spec = join(tmp, 'bad.yaml');
    writeFileSync(
      spec,
      SPEC.replace('server: asa.example.com', 'server: asa.example.com\n    colour: blue').replace('intranet.example.com', 'not a domain'),
    );
    const out = join(tmp, 'bad.mobileconfig');
    const run = await mockiron('profile', 'build', spec, '-o', out);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(`mockiron: ${spec}:8:5: vpnConfigurations[0].colour: unknown key`);
    expect(run.stderr).toContain(`${spec}:9:21: vpnConfigurations[0].safariDomains[0]: must be a domain name`);
    expect(() => readFileSync(out)).toThrow();
  });

  it('a directory with one bad spec writes no output at all', async () => {
    const dir = join(tmp, 'mixed');
    mkdirSync(dir);
    writeFileSync(join(dir, 'a-good.yaml'), SPEC);
    writeFileSync(join(dir, 'b-bad.json'), '{"profile": {"identifier": "com.example.x", "displayName": 5}, "vpnConfigurations": []}');
    const out = join(tmp, 'mixed-out');
    const run = await mockiron('profile', 'build', dir, '-o', out);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('b-bad.json:1:60: profile.displayName: Invalid input: expected string, received number');
    expect(run.stderr).toContain('b-bad.json:1:85: vpnConfigurations: must list at least one VPN configuration');
    expect(run.stderr).toContain('nothing written');
    expect(() => readdirSync(out)).toThrow();
  });

  it('complains about a missing spec file and a bad --namespace', async () => {
    const missing = await mockiron('profile', 'build', join(tmp, 'nope.yaml'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('nope.yaml: no such file');
    const ns = await mockiron('profile', 'build', 'profiles/vpndemo-external.yaml', '--namespace', 'xyz');
    expect(ns.stderr).toContain('--namespace must be a UUID: xyz');
    expect(ns.code).toBe(1);
  });
});

describe('mockiron profile build --sign', () => {
  it('signs with the data directory identity; openssl verifies it and gets the unsigned build back', async () => {
    const dataDir = join(tmp, 'sign-data');
    expect((await mockiron('signing', 'init', '--data-dir', dataDir)).code).toBe(0);
    const out = join(tmp, 'signed.mobileconfig');
    const run = await mockiron('profile', 'build', 'profiles/vpndemo-external.yaml', '--sign', '--data-dir', dataDir, '-o', out);
    expect(run.code, run.stderr).toBe(0);
    const plist = join(tmp, 'signed.plist');
    await new Promise<void>((resolve, reject) =>
      execFile(
        'openssl',
        ['cms', '-verify', '-inform', 'DER', '-in', out, '-CAfile', join(dataDir, 'signing', 'ca.pem'), '-purpose', 'any', '-out', plist],
        (err) => (err ? reject(err) : resolve()),
      ),
    );
    expect(readFileSync(plist)).toEqual(readFileSync(join(ROOT, 'profiles/vpndemo-external.mobileconfig')));
    const lint = await mockiron('profile', 'lint', out);
    expect(lint.code, lint.stdout + lint.stderr).toBe(0);
  });

  it('refuses --sign with --format json, and without an identity', async () => {
    const json = await mockiron(
      'profile',
      'build',
      'profiles/vpndemo-external.yaml',
      '--sign',
      '--format',
      'json',
      '--data-dir',
      join(tmp, 'sign-data'),
    );
    expect(json.code).not.toBe(0);
    expect(json.stderr).toMatch(/--format json/);
    const none = await mockiron(
      'profile',
      'build',
      'profiles/vpndemo-external.yaml',
      '--sign',
      '--data-dir',
      join(tmp, 'no-identity'),
      '-o',
      join(tmp, 'never.mobileconfig'),
    );
    expect(none.code).not.toBe(0);
    expect(readdirSync(tmp)).not.toContain('never.mobileconfig');
  });
});

describe('mockiron profile inspect', () => {
  it('prints an unsigned profile as normalised XML', async () => {
    const run = await mockiron('profile', 'inspect', 'profiles/vpndemo-external.mobileconfig');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(readFileSync(join(ROOT, 'profiles/vpndemo-external.mobileconfig'), 'utf8'));
    expect(run.stderr).toContain('unsigned XML plist');
  });

  it('extracts a signed profile, says who signed it, prints it as JSON', async () => {
    const run = await mockiron('profile', 'inspect', '--format', 'json', `${FIXTURES}/encrypted-dns/quad9-default-tls.signed.mobileconfig`);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('signed (CMS SignedData) by CN=encrypted-dns.brunch.io; signature NOT verified');
    const json = JSON.parse(run.stdout) as { PayloadIdentifier: string; PayloadContent: Array<{ DNSSettings: { ServerName: string } }> };
    expect(json.PayloadIdentifier).toBe('com.paulmillr.apple-dns');
    expect(json.PayloadContent[0]!.DNSSettings.ServerName).toBe('dns.quad9.net');
  });

  it('refuses non-plist input and signed non-profiles with a clear message', async () => {
    const text = join(tmp, 'notes.txt');
    writeFileSync(text, 'just some notes\n');
    const run = await mockiron('profile', 'inspect', text);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `mockiron: ${text}: not a configuration profile: neither a property list (XML or binary) nor a signed (DER CMS) profile\n`,
    );
    const der = await mockiron('profile', 'inspect', `${FIXTURES}/mobileconfig-npm/signed-string.der`);
    expect(der.code).toBe(1);
    expect(der.stderr).toContain('signed by C=US, O=Z4, but the signed content is not a property list');
  });
});

describe('mockiron profile lint', () => {
  it('passes the examples and the real third-party profiles, signed or not', async () => {
    const files = readdirSync(join(ROOT, 'profiles'))
      .filter((f) => f.endsWith('.mobileconfig'))
      .map((f) => `profiles/${f}`);
    const run = await mockiron(
      'profile',
      'lint',
      ...files,
      `${FIXTURES}/encrypted-dns/adguard-default-https.mobileconfig`,
      `${FIXTURES}/encrypted-dns/adguard-default-https.signed.mobileconfig`,
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split('\n')).toHaveLength(files.length + 2);
    expect(run.stdout).toContain('profiles/vpndemo-external.mobileconfig: ok');
  });

  it('--ios 9.3 warns about AssociatedDomains but still exits 0', async () => {
    const run = await mockiron('profile', 'lint', '--ios', '9.3', 'profiles/ikev2.mobileconfig');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      'profiles/ikev2.mobileconfig: warning PayloadContent[0].AssociatedDomains: AssociatedDomains was introduced in iOS 14.0; target is iOS 9.3',
    );
  });

  it('exits non-zero on errors and prints them; JSON format too', async () => {
    const broken = readFileSync(join(ROOT, 'profiles/vpndemo-external.mobileconfig'), 'utf8')
      .replace('<key>OnDemandMatchAppEnabled</key>\n\t\t\t<true/>', '<key>OnDemandMatchAppEnabled</key>\n\t\t\t<integer>1</integer>')
      .replace(/\t\t\t<key>VPNUUID<\/key>\n\t\t\t<string>[^<]+<\/string>\n/, '');
    const file = join(tmp, 'broken.mobileconfig');
    writeFileSync(file, broken);
    const run = await mockiron('profile', 'lint', file);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      `${file}: error PayloadContent[0].OnDemandMatchAppEnabled: expected <boolean> but found <integer>1</integer>`,
    );
    expect(run.stdout).toContain(`${file}: error PayloadContent[0].VPNUUID: missing required key VPNUUID`);
    expect(run.stderr).toBe('mockiron: lint failed for 1 of 1 file(s)\n');
    const json = await mockiron('profile', 'lint', '--format', 'json', file);
    expect(json.code).toBe(1);
    const results = JSON.parse(json.stdout) as Array<{ file: string; findings: Array<{ severity: string; path: string }> }>;
    expect(results[0]!.findings.map((f) => f.path)).toEqual(['PayloadContent[0].VPNUUID', 'PayloadContent[0].OnDemandMatchAppEnabled']);
  });

  it('reports unreadable and non-plist files and exits non-zero', async () => {
    const copy = join(tmp, 'cert.pem');
    copyFileSync(join(ROOT, `${FIXTURES}/mobileconfig-npm/cert.pem`), copy);
    const run = await mockiron('profile', 'lint', copy, 'profiles/l2tp.mobileconfig');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`mockiron: ${copy}: not a configuration profile`);
    expect(run.stdout).toContain('profiles/l2tp.mobileconfig: ok');
    expect(run.stderr).toContain('lint failed for 1 of 2 file(s) (1 unreadable)');
    const badIos = await mockiron('profile', 'lint', '--ios', 'latest', 'profiles/l2tp.mobileconfig');
    expect(badIos.code).toBe(1);
    expect(badIos.stderr).toContain('--ios must be a version');
  });
});
