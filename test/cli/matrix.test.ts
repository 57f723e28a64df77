// A spec's matrix: section (issue #20): one profile per VPN type × user authentication, linted per
// iOS version against Apple's schemas, signed reproducibly. The built files are read back by
// Python's plistlib and a signed cell is checked by `openssl cms -verify` — tools nobody here wrote.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../helpers/cli.js';
import { derivedVpnUuid } from '../../src/lib/profiles/spec.js';
import { opensslCmsVerify, tempDir } from '../unit/signing/helpers.js';

const temp = tempDir('mockiron-matrix-');
afterAll(() => temp.cleanup());

function plistlib(bytes: Buffer): any {
  const r = spawnSync('python3', ['-c', 'import sys, json, plistlib; print(json.dumps(plistlib.loads(sys.stdin.buffer.read())))'], {
    input: bytes,
    encoding: 'utf8',
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

const SIGN = [
  '--sign',
  '--key',
  'profiles/signed/qa-identity/signer.key.pem',
  '--cert',
  'profiles/signed/qa-identity/signer.pem',
  '--chain',
  'profiles/signed/qa-identity/ca.pem',
];
const env = { ...process.env, SOURCE_DATE_EPOCH: undefined };

describe('profile build with a matrix', () => {
  it('examples/qa-matrix.yaml: 4 VPN types × 2 authentications, each its own identifier and VPNUUID, as plistlib reads them', async () => {
    const out = join(temp.dir, 'plain');
    const r = await runCli(['profile', 'build', 'examples/qa-matrix.yaml', '-o', out], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('wrote 8 profile(s)');
    const files = readdirSync(out).sort();
    expect(files).toEqual(
      ['anyconnect', 'ikev2', 'ipsec', 'l2tp'].flatMap((t) => [
        `qa-matrix-${t}-certificate.mobileconfig`,
        `qa-matrix-${t}-password.mobileconfig`,
      ]),
    );
    const vpnTypes: Record<string, string> = { anyconnect: 'VPN', ikev2: 'IKEv2', ipsec: 'IPSec', l2tp: 'L2TP' };
    const uuids = new Set<string>();
    for (const f of files) {
      const [, type, auth] = /^qa-matrix-([a-z0-9]+)-([a-z]+)\.mobileconfig$/.exec(f)!;
      const profile = plistlib(readFileSync(join(out, f)));
      expect(profile.PayloadIdentifier).toBe(`com.example.qa.matrix.${type}-${auth}`);
      const vpn = profile.PayloadContent[0];
      expect(vpn.VPNType, f).toBe(vpnTypes[type!]);
      expect(vpn.VPNUUID).toBe(derivedVpnUuid(`com.example.qa.matrix.${type}-${auth}`, 'corp'));
      uuids.add(vpn.VPNUUID);
      uuids.add(profile.PayloadUUID);
    }
    expect(uuids.size).toBe(16);
    // the iOS versions were linted: the CERTIFICATE cells' warning names its cell and version
    expect(r.stderr).toContain('examples/qa-matrix.yaml [ikev2-certificate] iOS 17.0: warning');
  });

  it('signed with a pinned time, two builds are byte-identical and openssl verifies a cell', async () => {
    const a = join(temp.dir, 'signed-a');
    const b = join(temp.dir, 'signed-b');
    for (const out of [a, b]) {
      const r = await runCli(
        ['profile', 'build', 'examples/qa-matrix.yaml', ...SIGN, '--signing-time', '2027-01-01T00:00:00Z', '-o', out],
        { env },
      );
      expect(r.code, r.stderr).toBe(0);
    }
    for (const f of readdirSync(a)) expect(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), f).toBe(true);
    const judged = opensslCmsVerify(
      temp.dir,
      readFileSync(join(a, 'qa-matrix-l2tp-password.mobileconfig')),
      readFileSync(join(ROOT, 'profiles/signed/qa-identity/ca.pem'), 'utf8'),
    );
    expect(judged.ok, judged.stderr).toBe(true);
  });

  it('a cell that is not a valid spec names the cell, and nothing is written', async () => {
    const spec = join(temp.dir, 'bad.yaml');
    writeFileSync(
      spec,
      readFileSync(join(ROOT, 'examples/qa-matrix.yaml'), 'utf8').replace(
        'connectionType: [ANYCONNECT, IKEV2, IPSEC, L2TP]',
        'connectionType: [IKEV2, CUSTOM_SSL]',
      ),
    );
    const out = join(temp.dir, 'bad-out');
    const r = await runCli(['profile', 'build', spec, '-o', out], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'matrix cell custom-ssl-password: vpnConfigurations[0].providerBundleId: is required when connectionType is CUSTOM_SSL',
    );
    expect(existsSync(out)).toBe(false);
  });

  it('a matrix needs -o OUTDIR; a bad iOS version is a spec error with its line', async () => {
    const noOut = await runCli(['profile', 'build', 'examples/qa-matrix.yaml'], { env });
    expect(noOut.code).toBe(1);
    expect(noOut.stderr).toContain('has a matrix of 8 profiles: give -o OUTDIR');
    expect(noOut.stdout).toBe('');
    const spec = join(temp.dir, 'bad-ios.yaml');
    writeFileSync(spec, readFileSync(join(ROOT, 'examples/qa-matrix.yaml'), 'utf8').replace('ios: ["12.0", "17.0"]', 'ios: ["latest"]'));
    const bad = await runCli(['profile', 'build', spec, '-o', join(temp.dir, 'x')], { env });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/bad-ios\.yaml:21:\d+: matrix\.ios\[0\]: must be an iOS version/);
  });
});
