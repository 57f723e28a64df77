// The seed demo with certificate authentication (examples/seed-vpndemo/README.md, "With certificate
// authentication"), run exactly as written by bash: the offline head-end block with certificates
// made by the `openssl` CLI and the `mockiron` binary, and the REST block with curl, jq and
// `openssl crl` — clients nobody here wrote — continuing the password walkthrough against a real
// server over real HTTP on a real SQLite database.
//
// Sources: the seed, ../shared/seeds/000_0829dbd950fca5bc.txt (Cisco, "AnyConnect PerApp VPN — How
// to Implement PerApp for iOS devices with MobileIron MDM/EMM": label vpndemo-external, Chrome and
// MS RDP bound, the ASA's iOS_Wildcard_Policy through DAP); Cisco ASA command reference
// (`authentication certificate` under tunnel-group webvpn-attributes, `username-from-certificate`
// under general-attributes); Apple's com.apple.security.pkcs12 and com.apple.vpn.managed.applayer
// schemas (vendor/apple-device-management: VPN.AuthenticationMethod Certificate,
// PayloadCertificateUUID); RFC 5280 §5 (the CRL lists the revoked serial).
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminPassword, startTestApp, type TestApp } from '../helpers/app.js';
import { ROOT } from '../helpers/cli.js';

let t: TestApp;
let server: Server;
let base: string;
let dir: string;

beforeAll(async () => {
  t = await startTestApp();
  server = t.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  base = `http://127.0.0.1:${address.port}/api/v2`;
  // A directory of its own with the examples in reach, and `mockiron` on the PATH as a user has it
  dir = mkdtempSync(join(tmpdir(), 'mockiron-seed-cert-'));
  symlinkSync(join(ROOT, 'examples'), join(dir, 'examples'));
  writeFileSync(join(dir, 'mockiron'), `#!/bin/sh\nexec "${process.execPath}" "${join(ROOT, 'bin/mockiron.js')}" "$@"\n`);
  chmodSync(join(dir, 'mockiron'), 0o755);
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});

const readme = () => readFileSync(join(ROOT, 'examples/seed-vpndemo/README.md'), 'utf8');
/** The n-th ```sh block after a heading. */
function block(heading: string, n = 0): string {
  const section = readme().slice(readme().indexOf(heading));
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)][n]![1]!;
}

/** bash in a child process, asynchronously: the server answering curl runs in this one. */
function bash(script: string, env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['-c', script],
      { cwd: dir, encoding: 'utf8', env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, ...env }, timeout: 90_000 },
      (err, stdout, stderr) => resolve({ status: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe('examples/seed-vpndemo/README.md: with certificate authentication', () => {
  it('offline: the rendered tunnel group authenticates by certificate; Chrome tunnels with the openssl-made certificate, without one it is refused', async () => {
    // Each simulate's exit code is printed after it (its line, past the comment, is otherwise as written)
    const script = block('## With certificate authentication')
      .replace(/\\\n/g, '')
      .split('\n')
      .map((line) => (line.startsWith('mockiron anyconnect simulate') ? `${line}\necho "exit $?"` : line))
      .join('\n');
    const r = await bash(script);
    expect(r.status, r.stderr).toBe(0);
    for (const line of [' authentication certificate', ' username-from-certificate CN', ' revocation-check crl none'])
      expect(r.stdout.split('\n')).toContain(line);
    const verdicts = r.stdout.split('\n').filter((l) => /^(NOT )?TUNNELED:|^exit \d/.test(l));
    expect(verdicts).toEqual([
      expect.stringMatching(/^TUNNELED: 'com\.google\.chrome\.ios'/),
      'exit 0',
      expect.stringMatching(/^NOT TUNNELED: 'com\.p5sys\.jumpdesktop'.*did not bind/),
      'exit 3',
      expect.stringMatching(/^NOT TUNNELED: 'com\.google\.chrome\.ios'.*refused the connection \(missing\)/),
      'exit 3',
    ]);
    expect(r.stdout).toContain("username: 'vpndemo-user' from the certificate's CN");
    expect(r.stdout).toContain('signed by the CA of trustpoint MOCKIRON_CA: ok');
  }, 120_000);

  it('over REST, after the password walkthrough: TUNNELED with the certificate, retire revokes it, the CRL lists it, and the head-end refuses it as revoked', async () => {
    const script = `set -e\n${block('## The same demo through the REST API')}\n${block('## With certificate authentication', 1)}`;
    const r = await bash(script, { A: base, AUTH: `-u admin:${adminPassword}` });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    const lines = r.stdout.trim().split('\n');
    const uuid: string = (await t.admin.get('/api/v2/devices?limit=10')).body.results.at(-1)['common.uuid'];
    const certificates = (await t.admin.get(`/api/v2/devices/${uuid}/certificates`)).body.results;
    expect(certificates).toHaveLength(1);
    const serial: string = certificates[0].serialNumber;

    expect(lines).toContain('<string>Certificate</string>');
    expect(lines).toContain('com.apple.security.pkcs12');
    expect(lines).toContain(
      JSON.stringify({ subject: `O=Example, OU=vpndemo, CN=vpndemo-${uuid}`, status: 'valid', settingName: 'vpndemo identity' }),
    );
    expect(lines).toContain(' authentication certificate');
    expect(lines).toContain(' username-from-certificate CN');
    expect(lines).toContain(JSON.stringify({ tunneled: true, username: `vpndemo-${uuid}` }));
    expect(lines).toContain('{"actionType":"RETIRE","successful":true}');
    expect(lines).toContain('["revoked"]');
    expect(lines).toContain(`SerialNumber:${serial}`);
    const refused = JSON.parse(lines.at(-1)!);
    expect(refused).toMatchObject({ tunneled: false, refusal: { code: 'revoked' } });
    expect(refused.refusal.message).toContain(serial);
    expect(certificates[0].status).toBe('revoked');
  }, 120_000);
});
