/**
 * `mockiron anyconnect simulate --client-cert FILE [--ca-cert FILE --crl FILE]` and `mockiron asa
 * render|parse` with certificate authentication (issue #18), in-process through run(argv, io).
 * The CRL is also given as PEM converted by `openssl crl` (the outside reads ours).
 * Cisco: ASA command reference A-H, "authentication (tunnel-group webvpn-attributes)";
 * T-Z, "username-from-certificate"
 * (https://www.cisco.com/c/en/us/td/docs/security/asa/asa-cli-reference/T-Z/asa-command-ref-T-Z/u-commands.html).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority } from '../../src/signing/identity.js';
import { runCli } from '../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'mockiron-clientcert-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const file = (name: string, content: string | Buffer) => {
  const path = join(tmp, name);
  writeFileSync(path, content);
  return path;
};

const HEADEND = `tunnelGroups:
  - name: TG_cert
    authentication: certificate
    usernameFromCertificate: CN OU
`;
let head: string;
let session: string;
let device: string;
let caPem: string;
let cleanCrl: string;
let revokedCrl: string;
let revokedCrlPem: string;

beforeAll(() => {
  const ca = CertificateAuthority.create();
  const cert = ca.issueKeyAndCertificate({ subject: { commonName: 'ipad-7', organizationalUnit: 'Field' }, profile: 'device' });
  head = file('headend.yaml', HEADEND);
  session = file('session.yaml', 'tunnelGroup: TG_cert\nendpoint:\n  platform: android\n');
  device = file('device.pem', cert.pem);
  caPem = file('ca.pem', ca.certificatePem);
  cleanCrl = file('clean.crl', ca.issueCrl({ revoked: [], crlNumber: 1 }));
  revokedCrl = file('revoked.crl', ca.issueCrl({ revoked: [{ serialNumberHex: cert.serialNumber, revokedAt: new Date() }], crlNumber: 2 }));
  revokedCrlPem = join(tmp, 'revoked.crl.pem');
  execFileSync('openssl', ['crl', '-inform', 'DER', '-in', revokedCrl, '-outform', 'PEM', '-out', revokedCrlPem]);
});

const simulate = (...extra: string[]) =>
  runCli(['anyconnect', 'simulate', head, '--session', session, '--app', 'com.example.mail', '--platform', 'Android', ...extra]);

describe('mockiron anyconnect simulate --client-cert', () => {
  it("accepts a certificate of mockiron's CA not in its CRL (exit 0), taking the username from the CN", async () => {
    const r = await simulate('--client-cert', device, '--ca-cert', caPem, '--crl', cleanCrl);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("username: 'ipad-7' from the certificate's CN");
    expect(r.stdout).toMatch(/TUNNELED: 'com.example.mail' on Android/);
  });

  it('refuses a revoked certificate (exit 3), the CRL given as DER or as PEM', async () => {
    for (const crl of [revokedCrl, revokedCrlPem]) {
      const r = await simulate('--client-cert', device, '--ca-cert', caPem, '--crl', crl);
      expect(r.code).toBe(3);
      expect(r.stdout).toMatch(/NOT TUNNELED: .* refused the connection \(revoked\)/);
    }
  });

  it('refuses a missing certificate, and one it cannot check for revocation without --crl', async () => {
    const missing = await simulate('--ca-cert', caPem);
    expect(missing.code).toBe(3);
    expect(missing.stdout).toContain('(missing)');
    const noCrl = await simulate('--client-cert', device, '--ca-cert', caPem, '--json');
    expect(noCrl.code).toBe(3);
    expect(JSON.parse(noCrl.stdout).resolution.refusal.code).toBe('revocation-unavailable');
  });

  it('a file that is no certificate is bad input (exit 1) with a clear message', async () => {
    const r = await simulate('--client-cert', file('junk.pem', 'not a certificate'), '--ca-cert', caPem);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--client-cert .*junk\.pem: is not a PEM certificate/);
  });
});

describe('mockiron asa render / parse with certificate authentication', () => {
  it('renders the webvpn-attributes and general-attributes lines and parses them back', async () => {
    const rendered = await runCli(['asa', 'render', head]);
    expect(rendered.code).toBe(0);
    expect(rendered.stdout).toContain(
      ' username-from-certificate CN OU\ntunnel-group TG_cert webvpn-attributes\n authentication certificate\n',
    );
    const parsed = await runCli(['asa', 'parse', '-', '--json'], { input: rendered.stdout });
    expect(parsed.code).toBe(0);
    expect(JSON.parse(parsed.stdout).tunnelGroups).toEqual([
      {
        name: 'TG_cert',
        defaultGroupPolicy: 'DfltGrpPolicy',
        authentication: 'certificate',
        usernameFromCertificate: { primary: 'CN', secondary: 'OU' },
      },
    ]);
  });
});
