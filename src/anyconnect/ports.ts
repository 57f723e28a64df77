// What the AnyConnect head-end needs of capabilities above it, wired in src/app/services.ts: a
// device's identity certificates (for /simulate with deviceUuid) and mockiron's CA with its CRL
// (the implicit trustpoint, and any trustpoint standing for mockiron's CA).

/** One identity certificate of a device, as the certificate registry recorded it. */
export interface DeviceIdentityCertificate {
  certificatePem: string;
  serialNumber: string;
  revoked: boolean;
  /** The certificate enrollment setting it was issued for. */
  settingName: string;
}

export interface DeviceIdentityCertificates {
  /** The device's identity certificates, newest first (empty when it has none). */
  identityCertificates(deviceUuid: string): Promise<DeviceIdentityCertificate[]>;
}

export interface MockironCertificateAuthority {
  /** PEM of the CA that issues device certificates; null when mockiron holds no CA key. */
  caCertificatePem(): string | null;
  /** The CA's current CRL in DER, as GET /api/v2/scep/crl serves it; throws when there is none. */
  crl(): Promise<Buffer>;
}
