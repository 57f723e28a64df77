import { createHash, X509Certificate, type KeyObject } from 'node:crypto';
import {
  authorityKeyIdentifierExtension,
  basicConstraintsExtension,
  buildCertificate,
  encodeName,
  keyIdentifier,
  keyUsageExtension,
  readCertificateFields,
  subjectKeyIdentifierExtension,
} from '../pki/x509.js';

/**
 * Our generated CA's keyUsage is keyCertSign/cRLSign only, so OpenSSL clients reject CertReps it
 * signs ("unsuitable certificate purpose"). SCEP's answer is an RA certificate (RFC 8894 §2.1):
 * this one certifies the CA's own key for digitalSignature and keyEncipherment, so requests
 * encrypted to it still open with the CA key. It is derived only from the CA (fixed serial,
 * the CA's validity, deterministic RSA PKCS#1 v1.5 signature), so it is the same certificate
 * after every restart and clients that cached it keep working.
 */
export function scepRaCertificate(caCertificate: X509Certificate, caKey: KeyObject): X509Certificate {
  const ca = readCertificateFields(caCertificate.raw);
  const serialNumber = createHash('sha256').update('mockiron SCEP RA').update(caCertificate.raw).digest().subarray(0, 16);
  serialNumber[0] = (serialNumber[0]! & 0x7f) | 0x40; // positive, exactly 16 bytes
  const publicKey = caCertificate.publicKey;
  const organization = /^O=(.+)$/m.exec(caCertificate.subject)?.[1];
  return new X509Certificate(
    buildCertificate({
      serialNumber,
      issuerName: ca.subjectName,
      subjectName: encodeName({ commonName: 'mockiron SCEP RA', ...(organization ? { organization } : {}) }),
      notBefore: ca.notBefore,
      notAfter: ca.notAfter,
      publicKey,
      signingKey: caKey,
      extensions: [
        basicConstraintsExtension(false),
        keyUsageExtension(['digitalSignature', 'keyEncipherment']),
        subjectKeyIdentifierExtension(publicKey),
        authorityKeyIdentifierExtension(ca.subjectKeyIdentifier ?? keyIdentifier(publicKey)),
      ],
    }),
  );
}
