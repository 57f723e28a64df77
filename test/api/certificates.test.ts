// The device-certificate registry (src/certificates) on a real database: recording, owner lookup,
// binding, revocation, the generation counter MDM's caches key on, and that ScepService's
// members are the registry's.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateRegistry, certificateFingerprint, normalizeFingerprint } from '../../src/certificates/index.js';
import { createLogger } from '../../src/platform/logger.js';
import { SigningService } from '../../src/signing/service.js';
import { removeDir, startTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;
let registry: CertificateRegistry;
let deviceId: number;

beforeAll(async () => {
  t = await startTestApp();
  registry = t.services.certificates;
  deviceId = (await t.services.db.device.create({ data: { uuid: randomUUID(), platform: 'iOS' } })).id;
});
afterAll(async () => {
  await t.close();
  removeDir(t.dataDir);
});

const issue = (commonName: string) => t.services.signing.ca!.issueKeyAndCertificate({ subject: { commonName }, profile: 'device' });

describe('CertificateRegistry', () => {
  it('normalizes fingerprints from openssl notation to the stored lower-case hex', () => {
    const { certificate } = issue('fingerprint');
    expect(normalizeFingerprint(certificate.fingerprint256)).toBe(certificateFingerprint(certificate));
    expect(certificateFingerprint(certificate.raw)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('records a certificate with its fields, then finds its owner by fingerprint', async () => {
    const { certificate } = issue('recorded-device');
    const row = await registry.recordCertificate(t.services.db, { certificate, deviceRef: deviceId, source: 'pkcs12' });
    expect(row).toMatchObject({
      serialNumber: certificate.serialNumber.toUpperCase(),
      fingerprintSha256: certificateFingerprint(certificate),
      subject: 'CN=recorded-device',
      source: 'pkcs12',
      transactionId: null,
      revoked: false,
    });
    expect(await registry.deviceForCertificate(certificate.fingerprint256)).toEqual({
      deviceRef: deviceId,
      revoked: false,
      notAfter: new Date(certificate.validTo),
    });
  });

  it('binds only an unbound certificate, and moves the generation when it does', async () => {
    const { certificate } = issue('unbound-device');
    await registry.recordCertificate(t.services.db, { certificate, source: 'scep', transactionId: 'TX-1' });
    expect((await registry.latestForTransaction(t.services.db, 'TX-1'))?.serialNumber).toBe(certificate.serialNumber.toUpperCase());
    const before = registry.certificateGeneration;
    expect(await registry.bindCertificate(certificate.fingerprint256, deviceId)).toBe(true);
    expect(registry.certificateGeneration).toBe(before + 1);
    expect(await registry.bindCertificate(certificate.fingerprint256, deviceId)).toBe(false);
    expect(registry.certificateGeneration).toBe(before + 1);
    expect((await registry.deviceForCertificate(certificate.fingerprint256))?.deviceRef).toBe(deviceId);
  });

  it('revokes every active certificate of a device once, with an audit entry, and lists them as revoked', async () => {
    const before = registry.certificateGeneration;
    const { revoked } = await t.services.db.$transaction((tx) => registry.revokeDeviceCertificates(tx, deviceId, 'test retire'));
    expect(revoked.length).toBe(2);
    expect(registry.certificateGeneration).toBe(before + 1);
    expect((await t.services.db.$transaction((tx) => registry.revokeDeviceCertificates(tx, deviceId, 'again'))).revoked).toEqual([]);
    expect(registry.certificateGeneration).toBe(before + 1);
    const audit = await t.services.db.auditEvent.findFirst({
      where: { action: 'certificate.revoke', objectType: 'device', objectId: String(deviceId) },
    });
    expect(audit?.objectId).toBe(String(deviceId));
    const listed = await t.admin.get('/api/v2/scep/certificates').query({ revoked: 'true' });
    expect(listed.status).toBe(200);
    expect(listed.body.results.map((r: { serialNumber: string }) => r.serialNumber).sort()).toEqual([...revoked].sort());
  });

  it('refuses the CRL with the SCEP unavailability reason when the CA key is not held here', async () => {
    const imported = new CertificateRegistry(
      t.services.db,
      new SigningService(t.services.signing.identity, undefined),
      createLogger('silent'),
    );
    await expect(imported.crl()).rejects.toThrow(/imported identity/);
    const crl = await registry.crl();
    expect(crl[0]).toBe(0x30);
  });
});
