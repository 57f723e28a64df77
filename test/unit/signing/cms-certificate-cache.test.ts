// verifyCms parses every certificate a CMS carries before any signature is checked, and remembers
// them (devices sign every request with the same one). Anyone can send certificates, so that
// memory must stay within its byte budget however many distinct ones arrive.
import { describe, expect, it } from 'vitest';
import { parsedCertificateCacheStats, signCms, verifyCms } from '../../../src/lib/pki/cms.js';
import { CertificateAuthority, generateKeyPair } from '../../../src/signing/identity.js';

describe('the parsed-certificate cache', () => {
  it('stays within its byte budget across hundreds of distinct large certificates, and still verifies', () => {
    const ca = CertificateAuthority.create({ keyType: 'ec' });
    const { privateKey, publicKey } = generateKeyPair('ec');
    // ~20 KB each: 300 long DNS names
    const sans = Array.from({ length: 300 }, (_, i) => `host-${i}-${'x'.repeat(50)}.example.test`);
    const signer = ca.issueCertificate({ subject: { commonName: 'signer' }, publicKey, profile: 'device' });
    const padding = Array.from(
      { length: 400 },
      (_, i) => ca.issueCertificate({ subject: { commonName: `filler ${i}` }, publicKey, profile: 'device', sans }).certificate,
    );
    expect(padding[0]!.raw.length).toBeGreaterThan(15_000);
    // other test files of this worker may have filled the cache already (unit files share modules)
    const { maxBytes, entries: entriesBefore } = parsedCertificateCacheStats();
    let peakEntries = 0;
    for (let i = 0; i < padding.length; i += 40) {
      const cms = signCms(Buffer.from(`message ${i}`), { privateKey, certificate: signer.certificate, chain: padding.slice(i, i + 40) });
      const result = verifyCms(cms, { trustAnchors: [ca.certificate] });
      expect(result.trusted).toBe(true);
      const stats = parsedCertificateCacheStats();
      expect(stats.bytes).toBeLessThanOrEqual(maxBytes);
      peakEntries = Math.max(peakEntries, stats.entries);
    }
    // 400 certificates of ~60 KB accounted each cannot all fit in 16 MB: the oldest went
    expect(peakEntries - entriesBefore).toBeLessThan(400);
    // and a message whose certificates were evicted verifies again (parsed afresh)
    const again = signCms(Buffer.from('again'), { privateKey, certificate: signer.certificate, chain: padding.slice(0, 2) });
    expect(verifyCms(again, { trustAnchors: [ca.certificate] }).trusted).toBe(true);
  });
});
