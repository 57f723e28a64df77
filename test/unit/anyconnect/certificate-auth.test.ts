/**
 * Certificate authentication on the AnyConnect head-end model (issue #18), checked against the
 * outside: certificates and CRLs made by OpenSSL's `openssl req`, `openssl ca` (including
 * `-revoke` and `-gencrl`), and by our own CA (src/signing/identity.ts), with `openssl crl` and
 * `openssl verify -crl_check` as judges of what we conclude.
 *
 * Cisco's side, cited:
 * - ASA command reference T-Z, "username-from-certificate" (tunnel-group general-attributes:
 *   `username-from-certificate {primary-attr [secondary-attr] | use-entire-name}`)
 *   https://www.cisco.com/c/en/us/td/docs/security/asa/asa-cli-reference/T-Z/asa-command-ref-T-Z/u-commands.html
 *   and its A-H volume, "authentication (tunnel-group webvpn-attributes)": aaa | certificate | aaa certificate.
 * - A real `show running-config tunnel-group` as replayed by fakenos/fakenos
 *   (docs/platforms/cisco_asa.md): ` username-from-certificate C CN` under general-attributes and
 *   ` authentication aaa certificate` under webvpn-attributes.
 * - The DN fields the ASA accepts: Cisco FTD API, CertificateUserNameSettings
 *   (https://developer.cisco.com/docs/ftd-ansible/latest/certificateusernamesettings): primary CN by default.
 * - DAP certificate attributes `endpoint.certificate.user["0"].subject_cn`, `.issuer_cn`,
 *   `.subject_fulldn`, `.serial`, `.time_valid_from` as HostScan reports them (Cisco tech note
 *   224470 "Configure LUA Script for DAP"; replayed by public CSD wrappers of openconnect).
 * - Trustpoints: `crypto ca trustpoint`, `revocation-check crl none`, and `crypto ca certificate
 *   chain` hex dumps (Cisco tech note 220282, "Install and Renew Certificates on ASA Managed by CLI").
 */
import { execFileSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ClientCertificateError,
  type HeadEndConfig,
  type TrustAnchor,
  certificateDapAttributes,
  loadHeadEndConfig,
  parseAsaCli,
  parseCrl,
  readClientCertificate,
  renderAsaCli,
  resolveSession,
  usernameFromCertificate,
  validateClientCertificate,
} from '../../../src/lib/anyconnect/index.js';
import { CertificateAuthority } from '../../../src/signing/identity.js';

let dir: string;
const file = (name: string) => path.join(dir, name);
const read = (name: string) => readFileSync(file(name), 'utf8');
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

const CA_CONFIG = `
[ ca ]
default_ca = testca
[ testca ]
dir = .
database = index.txt
new_certs_dir = .
serial = serial
crlnumber = crlnumber
certificate = ca.pem
private_key = ca.key
default_md = sha256
default_days = 30
default_crl_days = 7
policy = anything
unique_subject = no
copy_extensions = none
[ anything ]
commonName = supplied
organizationalUnitName = optional
organizationName = optional
countryName = optional
emailAddress = optional
[ client ]
basicConstraints = CA:FALSE
keyUsage = digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectAltName = email:jdoe@example.com, otherName:1.3.6.1.4.1.311.20.2.3;UTF8:jdoe@corp.example
[ server ]
basicConstraints = CA:FALSE
extendedKeyUsage = serverAuth
`;

/** Issues a certificate with `openssl ca`, so the CA's database knows it (for -revoke). */
function issue(name: string, subject: string, extensions: string, dates: string[] = []): string {
  openssl('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
  openssl('ca', '-batch', '-config', 'ca.cnf', '-extensions', extensions, '-in', `${name}.csr`, '-out', `${name}.pem`, '-notext', ...dates);
  return read(`${name}.pem`);
}

let caPem: string;
let good: string;
let revoked: string;
let serverOnly: string;
let expired: string;
let future: string;
let otherCaPem: string;
let foreign: string;
let crl: Buffer;
let otherCrl: Buffer;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'mockiron-certauth-'));
  writeFileSync(file('ca.cnf'), CA_CONFIG);
  writeFileSync(file('index.txt'), '');
  writeFileSync(file('serial'), '1000\n');
  writeFileSync(file('crlnumber'), '01\n');
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '30',
    '-subj',
    '/O=Outside/CN=Outside Test CA',
  );
  caPem = read('ca.pem');
  good = issue('good', '/C=US/O=Example/OU=Sales/CN=jdoe/emailAddress=jdoe@example.com', 'client');
  revoked = issue('revoked', '/OU=Sales/CN=mallory', 'client');
  serverOnly = issue('server', '/CN=vpn.example.com', 'server');
  expired = issue('expired', '/CN=old', 'client', ['-startdate', '20200101000000Z', '-enddate', '20200102000000Z']);
  future = issue('future', '/CN=later', 'client', ['-startdate', '20990101000000Z', '-enddate', '20990102000000Z']);
  openssl('ca', '-config', 'ca.cnf', '-revoke', 'revoked.pem');
  openssl('ca', '-config', 'ca.cnf', '-gencrl', '-out', 'crl.pem');
  openssl('crl', '-in', 'crl.pem', '-outform', 'DER', '-out', 'crl.der');
  crl = readFileSync(file('crl.der'));
  // Another CA altogether, with a client certificate and a CRL of its own
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'other.key',
    '-out',
    'other.pem',
    '-days',
    '30',
    '-subj',
    '/CN=Other CA',
  );
  otherCaPem = read('other.pem');
  openssl('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'foreign.key', '-out', 'foreign.csr', '-subj', '/CN=jdoe');
  openssl(
    'x509',
    '-req',
    '-in',
    'foreign.csr',
    '-CA',
    'other.pem',
    '-CAkey',
    'other.key',
    '-CAcreateserial',
    '-days',
    '5',
    '-out',
    'foreign.pem',
  );
  foreign = read('foreign.pem');
  writeFileSync(
    file('other.cnf'),
    CA_CONFIG.replace('certificate = ca.pem', 'certificate = other.pem')
      .replace('private_key = ca.key', 'private_key = other.key')
      .replace('database = index.txt', 'database = other-index.txt'),
  );
  writeFileSync(file('other-index.txt'), '');
  openssl('ca', '-config', 'other.cnf', '-gencrl', '-out', 'other-crl.pem');
  otherCrl = readCrlDer('other-crl.pem');
});

function readCrlDer(pemFile: string): Buffer {
  openssl('crl', '-in', pemFile, '-outform', 'DER', '-out', `${pemFile}.der`);
  return readFileSync(file(`${pemFile}.der`));
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const NOW = () => new Date();
const anchor = (over: Partial<TrustAnchor> = {}): TrustAnchor => ({
  trustpoint: 'OUTSIDE',
  caCertificatePem: caPem,
  revocationCheck: 'crl',
  crl,
  ...over,
});
const check = (pem: string, anchors: TrustAnchor[] = [anchor()], now = NOW()) =>
  validateClientCertificate(readClientCertificate(pem), anchors, now);

describe('client certificate validation against openssl-made certificates and CRL', () => {
  it('openssl itself agrees on the good and the revoked certificate (the outside judge)', () => {
    writeFileSync(file('chain-crl.pem'), caPem + read('crl.pem'));
    expect(openssl('verify', '-crl_check', '-CAfile', 'chain-crl.pem', 'good.pem')).toContain('good.pem: OK');
    expect(() => openssl('verify', '-crl_check', '-CAfile', 'chain-crl.pem', 'revoked.pem')).toThrow(/revoked/);
  });

  it('accepts a clientAuth certificate of the trustpoint, not listed in its CRL, and says what it checked', () => {
    const result = check(good);
    expect(result).toMatchObject({ ok: true, refusal: null, trustpoint: 'OUTSIDE' });
    expect(result.checks.join('\n')).toMatch(
      /validity: .* ok\nissuer: signed by the CA of trustpoint OUTSIDE: ok\nextended key usage: clientAuth: ok\nrevocation: the CRL of trustpoint OUTSIDE \(signature verified, 1 revoked\) does not list it: ok/,
    );
  });

  it('refuses each failure with its own code', () => {
    expect(check(revoked).refusal?.code).toBe('revoked');
    expect(check(expired).refusal?.code).toBe('expired');
    expect(check(future).refusal?.code).toBe('not-yet-valid');
    expect(check(serverOnly).refusal?.code).toBe('wrong-eku');
    expect(check(foreign).refusal?.code).toBe('untrusted-issuer');
    expect(check(good, [anchor({ crl: null })]).refusal?.code).toBe('revocation-unavailable');
  });

  it('the revoked serial is the one openssl crl -text lists', () => {
    const parsed = parseCrl(crl);
    const text = openssl('crl', '-in', 'crl.pem', '-noout', '-text');
    const listed = /Serial Number: ([0-9A-F]+)/.exec(text)![1]!;
    expect([...parsed.revoked.keys()]).toEqual([listed.replace(/^0+/, '')]);
    expect(readClientCertificate(revoked).serialNumber).toBe(listed.replace(/^0+/, ''));
  });

  it("checks the CRL's signature and issuer: another CA's CRL, or a tampered one, is no CRL for this trustpoint", () => {
    expect(check(revoked, [anchor({ crl: otherCrl })]).refusal?.code).toBe('revocation-unavailable');
    const tampered = Buffer.from(crl);
    tampered[tampered.length - 5] = tampered[tampered.length - 5]! ^ 0xff;
    const result = check(good, [anchor({ crl: tampered })]);
    expect(result.refusal?.code).toBe('revocation-unavailable');
    expect(result.refusal?.message).toMatch(/signature does not verify/);
  });

  it('revocation-check crl none falls back to no check when the CRL cannot be had; none never checks', () => {
    expect(check(good, [anchor({ crl: null, revocationCheck: 'crl none' })]).ok).toBe(true);
    expect(check(revoked, [anchor({ revocationCheck: 'none' })]).ok).toBe(true);
    // ...but a CRL that is there still counts with crl none
    expect(check(revoked, [anchor({ revocationCheck: 'crl none' })]).refusal?.code).toBe('revoked');
  });

  it('tries every trustpoint: the second one may be the issuer', () => {
    const result = check(foreign, [anchor(), anchor({ trustpoint: 'OTHER', caCertificatePem: otherCaPem, revocationCheck: 'none' })]);
    expect(result).toMatchObject({ ok: true, trustpoint: 'OTHER' });
  });
});

describe('our CA (src/signing/identity.ts) and its CRL', () => {
  it('a device certificate validates; once in the CRL it is refused as revoked; openssl reads our CRL as signed by our CA', () => {
    const ca = CertificateAuthority.create();
    const device = ca.issueKeyAndCertificate({ subject: { commonName: 'ipad-1', organizationalUnit: 'Field' }, profile: 'device' });
    const ours = (revokedSerials: string[]) =>
      ca.issueCrl({ revoked: revokedSerials.map((s) => ({ serialNumberHex: s, revokedAt: new Date() })), crlNumber: 7 });
    const ourAnchor = (crlDer: Buffer): TrustAnchor => ({
      trustpoint: 'MOCKIRON_CA',
      caCertificatePem: ca.certificatePem,
      revocationCheck: 'crl',
      crl: crlDer,
    });
    expect(validateClientCertificate(readClientCertificate(device.pem), [ourAnchor(ours([]))], new Date()).ok).toBe(true);
    const listing = ours([device.serialNumber]);
    expect(validateClientCertificate(readClientCertificate(device.pem), [ourAnchor(listing)], new Date()).refusal?.code).toBe('revoked');
    writeFileSync(file('our-ca.pem'), ca.certificatePem);
    writeFileSync(file('our.crl'), listing);
    const text = execFileSync('openssl', ['crl', '-inform', 'DER', '-in', 'our.crl', '-CAfile', 'our-ca.pem', '-noout', '-text'], {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(text).toContain(`Serial Number: ${device.serialNumber}`);
    // an openssl-made certificate is not ours
    expect(validateClientCertificate(readClientCertificate(good), [ourAnchor(listing)], new Date()).refusal?.code).toBe('untrusted-issuer');
    expect(createPublicKey(device.privateKey).type).toBe('public');
  });
});

describe('certificate fields: DAP attributes and the username', () => {
  it('names the fields as the ASA does (endpoint.certificate.user["0"].*)', () => {
    const attributes = certificateDapAttributes(readClientCertificate(good));
    const p = 'endpoint.certificate.user["0"].';
    expect(attributes).toMatchObject({
      [`${p}subject_cn`]: 'jdoe',
      [`${p}subject_ou`]: 'Sales',
      [`${p}subject_o`]: 'Example',
      [`${p}subject_c`]: 'US',
      [`${p}subject_e`]: 'jdoe@example.com',
      [`${p}issuer_cn`]: 'Outside Test CA',
      [`${p}issuer_o`]: 'Outside',
      [`${p}subject_san_email`]: 'jdoe@example.com',
      [`${p}subject_san_upn`]: 'jdoe@corp.example',
    });
    const sha1 = openssl('x509', '-in', 'good.pem', '-noout', '-fingerprint', '-sha1')
      .trim()
      .split('=')[1]!
      .replace(/:/g, '')
      .toLowerCase();
    expect(attributes[`${p}sha1_hash`]).toBe(sha1);
    const serial = openssl('x509', '-in', 'good.pem', '-noout', '-serial').trim().split('=')[1]!;
    expect(attributes[`${p}serial`]).toBe(serial.toLowerCase().match(/../g)!.join(':'));
  });

  it('takes the username per username-from-certificate', () => {
    const facts = readClientCertificate(good);
    expect(usernameFromCertificate(facts, null).username).toBe('jdoe');
    expect(usernameFromCertificate(facts, { primary: 'EA' }).username).toBe('jdoe@example.com');
    expect(usernameFromCertificate(facts, { primary: 'E' }).username).toBe('jdoe@example.com');
    expect(usernameFromCertificate(facts, { primary: 'UPN' }).username).toBe('jdoe@corp.example');
    expect(usernameFromCertificate(facts, { primary: 'OU', secondary: 'CN' }).username).toBe('Sales');
    expect(usernameFromCertificate(facts, { primary: 'UID', secondary: 'CN' }).username).toBe('jdoe');
    // openssl ca writes the DN in its policy's order; its own one-line form is the reference
    const openSslSubject = openssl('x509', '-in', 'good.pem', '-noout', '-subject', '-nameopt', 'compat')
      .trim()
      .replace(/^subject=\//, '');
    expect(usernameFromCertificate(facts, 'use-entire-name').username).toBe(
      openSslSubject.split('/').join(',').replace('emailAddress=', 'EA='),
    );
  });

  it('refuses what is not one PEM certificate as bad input', () => {
    expect(() => readClientCertificate('hello')).toThrow(ClientCertificateError);
    expect(() => readClientCertificate(`${good}${good}`)).toThrow(/2 certificates/);
    expect(() => readClientCertificate('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----')).toThrow(ClientCertificateError);
    expect(() => readClientCertificate('x'.repeat(20000))).toThrow(/at most 16384/);
  });
});

function headEnd(extra: Record<string, unknown> = {}): HeadEndConfig {
  return loadHeadEndConfig({
    groupPolicies: [{ name: 'GP_sales', perapp: 'none' }],
    tunnelGroups: [
      { name: 'TG_cert', authentication: 'certificate', usernameFromCertificate: 'EA' },
      { name: 'TG_both', authentication: 'aaa certificate' },
      { name: 'TG_pw' },
    ],
    dapRecords: [
      {
        name: 'Sales_by_certificate',
        priority: 10,
        endpointCriteria: [{ attribute: 'endpoint.certificate.user["0"].subject_ou', operator: 'EQ', value: 'Sales' }],
        aaaCriteria: [{ attribute: 'aaa.cisco.username', operator: 'EQ', value: 'jdoe@example.com' }],
      },
    ],
    trustpoints: [{ name: 'OUTSIDE', caCertificate: caPem, revocationCheck: 'none' }],
    ...extra,
  }).config;
}

describe('sessions on tunnel groups with certificate authentication', () => {
  it('certificate: the username comes from the certificate and DAP selects on its fields', () => {
    const r = resolveSession(headEnd(), { tunnelGroup: 'TG_cert', aaa: {}, endpoint: {}, clientCertificatePem: good });
    expect(r.terminated).toBe(false);
    expect(r.authentication).toMatchObject({
      certificate: 'passed',
      aaa: 'not-required',
      username: 'jdoe@example.com',
      usernameSource: 'certificate',
      trustpoint: 'OUTSIDE',
    });
    expect(r.selectedDapRecords.map((d) => d.name)).toEqual(['Sales_by_certificate']);
  });

  it('certificate: a session without one is refused as missing, before DAP', () => {
    const r = resolveSession(headEnd(), { tunnelGroup: 'TG_cert', aaa: {}, endpoint: {} });
    expect(r).toMatchObject({ terminated: true, refusal: { code: 'missing' }, selectedDapRecords: [] });
  });

  it('aaa certificate: both must pass', () => {
    const config = headEnd();
    expect(resolveSession(config, { tunnelGroup: 'TG_both', aaa: { 'aaa.cisco.username': 'jd' }, endpoint: {} }).refusal?.code).toBe(
      'missing',
    );
    const failed = resolveSession(config, {
      tunnelGroup: 'TG_both',
      aaa: {},
      endpoint: {},
      clientCertificatePem: good,
      aaaAuthenticated: false,
    });
    expect(failed.refusal?.code).toBe('aaa-failed');
    const ok = resolveSession(config, {
      tunnelGroup: 'TG_both',
      aaa: { 'aaa.cisco.username': 'jd' },
      endpoint: {},
      clientCertificatePem: good,
    });
    expect(ok.authentication).toMatchObject({ aaa: 'passed', certificate: 'passed', username: 'jd', usernameSource: 'aaa' });
  });

  it('aaa: unchanged, a certificate is not required but its fields still reach DAP', () => {
    const config = headEnd();
    expect(resolveSession(config, { tunnelGroup: 'TG_pw', aaa: {}, endpoint: {} }).terminated).toBe(false);
    const r = resolveSession(config, {
      tunnelGroup: 'TG_pw',
      aaa: { 'aaa.cisco.username': 'jdoe@example.com' },
      endpoint: {},
      clientCertificatePem: expired,
    });
    expect(r.terminated).toBe(false);
    expect(r.authentication?.certificate).toBe('not-required');
  });

  it("with no trustpoint configured, mockiron's CA is the implicit one (and without it nothing is trusted)", () => {
    const config = headEnd({ trustpoints: [] });
    const r = resolveSession(config, { tunnelGroup: 'TG_cert', aaa: {}, endpoint: {}, clientCertificatePem: good });
    expect(r.refusal?.code).toBe('untrusted-issuer');
    const trusted = resolveSession(
      config,
      { tunnelGroup: 'TG_cert', aaa: {}, endpoint: {}, clientCertificatePem: good },
      { pki: { caCertificatePem: caPem, crl } },
    );
    expect(trusted.authentication?.trustpoint).toBe('MOCKIRON_CA');
    const gone = resolveSession(
      config,
      { tunnelGroup: 'TG_cert', aaa: {}, endpoint: {}, clientCertificatePem: revoked },
      { pki: { caCertificatePem: caPem, crl } },
    );
    expect(gone.refusal?.code).toBe('revoked');
  });
});

describe('ASA CLI: the new lines render and parse back', () => {
  it('round trip: render → parse → the same config (trustpoints, authentication, username-from-certificate)', () => {
    const config = headEnd({
      tunnelGroups: [
        { name: 'TG_cert', authentication: 'certificate', usernameFromCertificate: 'CN OU' },
        { name: 'TG_both', authentication: 'aaa certificate', usernameFromCertificate: 'use-entire-name' },
        { name: 'TG_pw' },
      ],
      trustpoints: [
        { name: 'OUTSIDE', caCertificate: caPem, revocationCheck: 'crl none' },
        { name: 'MOCKIRON', caCertificate: null, revocationCheck: 'crl' },
      ],
    });
    const text = renderAsaCli(config);
    expect(text).toContain(
      'tunnel-group TG_cert general-attributes\n default-group-policy DfltGrpPolicy\n username-from-certificate CN OU\ntunnel-group TG_cert webvpn-attributes\n authentication certificate\n',
    );
    expect(text).toContain('tunnel-group TG_both webvpn-attributes\n authentication aaa certificate\n');
    expect(text).not.toContain('tunnel-group TG_pw webvpn-attributes');
    expect(text).toContain(
      'crypto ca trustpoint OUTSIDE\n enrollment terminal\n revocation-check crl none\ncrypto ca certificate chain OUTSIDE\n certificate ca ',
    );
    expect(text).toContain('! mockiron trustpoint-ca MOCKIRON mockiron');
    expect(parseAsaCli(text)).toEqual(config);
  });

  it("the chain's hex dump is the CA certificate openssl made, byte for byte", () => {
    const text = renderAsaCli(headEnd());
    const hex = text
      .split('crypto ca certificate chain OUTSIDE\n')[1]!
      .split('  quit')[0]!
      .split('\n')
      .slice(1)
      .join('')
      .replace(/\s/g, '');
    const der = execFileSync('openssl', ['x509', '-in', 'ca.pem', '-outform', 'DER'], { cwd: dir });
    expect(hex).toBe(der.toString('hex'));
  });

  it('reads a running-config shaped like a real ASA (fakenos cisco_asa show running-config tunnel-group)', () => {
    const config = parseAsaCli(
      [
        'tunnel-group tun01 type remote-access',
        'tunnel-group tun01 general-attributes',
        ' authorization-required',
        ' default-group-policy DfltGrpPolicy',
        ' username-from-certificate C CN',
        ' strip-group',
        'tunnel-group tun01 webvpn-attributes',
        ' authentication aaa certificate',
        ' group-alias grpalias enable',
        'crypto ca trustpoint ASDM_TrustPoint0',
        ' enrollment terminal',
        ' revocation-check crl none',
        ' crl configure',
        '',
      ].join('\n'),
    );
    expect(config.tunnelGroups).toEqual([
      {
        name: 'tun01',
        defaultGroupPolicy: 'DfltGrpPolicy',
        authentication: 'aaa certificate',
        usernameFromCertificate: { primary: 'C', secondary: 'CN' },
      },
    ]);
    expect(config.trustpoints).toEqual([{ name: 'ASDM_TrustPoint0', caCertificate: null, revocationCheck: 'crl none' }]);
  });

  it('names the line of a bad authentication or username-from-certificate', () => {
    expect(() => parseAsaCli('tunnel-group T type remote-access\ntunnel-group T webvpn-attributes\n authentication password\n')).toThrow(
      /line 3/,
    );
    expect(() =>
      parseAsaCli('tunnel-group T type remote-access\ntunnel-group T general-attributes\n username-from-certificate XX\n'),
    ).toThrow(/line 3/);
    expect(() =>
      parseAsaCli('crypto ca trustpoint TP\ncrypto ca certificate chain TP\n certificate ca 01\n    3082zzzz\n  quit\n'),
    ).toThrow(/line 4/);
  });
});
