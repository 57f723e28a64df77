// Device authentication, before any body is parsed (NanoMDM's certauth, in our terms): the
// Mdm-Signature (a detached CMS over the exact bytes) or a proxy-forwarded client certificate
// names a certificate; its record (issued here, not revoked, not expired) names the device. The
// certificate → device answer is cached per certificate while no certificate was bound or
// revoked and the device did not change (see the stamps).
import { X509Certificate } from 'node:crypto';
import { MdmSignatureError, verifyMdmSignature } from '../lib/mdm-protocol/index.js';
import type { DbTx } from '../platform/db/client.js';
import type { Logger } from '../platform/logger.js';
import { echo, type DeviceOutcome } from './outcomes.js';
import type { AuthenticatedDevice, DeviceCertificates, DeviceRecords } from './ports.js';

export type RequestHeaders = Record<string, string | string[] | undefined>;

/** The message is what the device reads (our words only); `detail` is for the server's log. */
export class DeviceAuthError extends Error {
  constructor(
    message: string,
    readonly detail?: string,
  ) {
    super(message);
  }
}

/** Who signed a request, known before its body is read: the certificate and its device (null while unbound). */
export interface DeviceIdentity {
  fingerprint: string;
  device: AuthenticatedDevice | null;
}

export class DeviceAuthenticator {
  /** Certificate fingerprint → its device, with the certificate generation and device stamp it was read at. */
  private readonly authenticated = new Map<
    string,
    { device: AuthenticatedDevice; notAfter: Date; certificateGeneration: number; deviceStamp: number | undefined }
  >();
  /** Device id → a stamp that moves when the device changes (deleted, user or labels changed, …). */
  private readonly deviceStamps = new Map<number, number>();
  private deviceStampCounter = 0;

  constructor(
    private readonly db: DbTx,
    private readonly devices: Pick<DeviceRecords, 'identityById'>,
    private readonly certificates: Pick<DeviceCertificates, 'certificateGeneration' | 'deviceForCertificate'>,
    private readonly trust: { readonly trustAnchor: X509Certificate },
    private readonly logger: Logger,
    private readonly options: { clientCertHeader?: string } = {},
  ) {}

  /** Who is talking, decided from the headers and the raw bytes. Throws DeviceAuthError. */
  async identify(headers: RequestHeaders, body: Buffer): Promise<DeviceIdentity> {
    let fingerprint: string;
    const forwarded = this.options.clientCertHeader ? headers[this.options.clientCertHeader.toLowerCase()] : undefined;
    if (typeof forwarded === 'string' && forwarded) {
      fingerprint = this.forwardedCertificateFingerprint(forwarded);
    } else {
      try {
        const header = headers['mdm-signature'];
        const signer = verifyMdmSignature(typeof header === 'string' ? header : undefined, body, {
          trustAnchors: [this.trust.trustAnchor],
        });
        fingerprint = signer.fingerprintSha256;
      } catch (err) {
        // The code is ours; the message may quote a dependency (OpenSSL), so it goes to the log only
        if (err instanceof MdmSignatureError) throw new DeviceAuthError(`Mdm-Signature rejected (${err.code})`, err.message);
        throw err;
      }
    }
    const certificateGeneration = this.certificates.certificateGeneration;
    const cached = this.authenticated.get(fingerprint);
    if (
      cached &&
      cached.certificateGeneration === certificateGeneration &&
      cached.deviceStamp === this.deviceStamps.get(cached.device.id) &&
      cached.notAfter.getTime() >= Date.now()
    ) {
      return { fingerprint, device: cached.device };
    }
    this.authenticated.delete(fingerprint);
    const cert = await this.certificates.deviceForCertificate(fingerprint);
    if (!cert) throw new DeviceAuthError('the signing certificate was not issued to any device by this server');
    if (cert.revoked) throw new DeviceAuthError('the device certificate has been revoked (device retired or wiped)');
    if (cert.notAfter < new Date()) throw new DeviceAuthError('the device certificate has expired');
    if (cert.deviceRef == null) return { fingerprint, device: null };
    const deviceStamp = this.deviceStamps.get(cert.deviceRef);
    const row = await this.devices.identityById(this.db, cert.deviceRef);
    if (!row) throw new DeviceAuthError('the device of this certificate no longer exists');
    if (this.authenticated.size >= 100_000) this.authenticated.delete(this.authenticated.keys().next().value!);
    this.authenticated.set(fingerprint, { device: row, notAfter: cert.notAfter, certificateGeneration, deviceStamp });
    return { fingerprint, device: row };
  }

  /** The second half, once the body is decoded: the UDID it names must be the certificate's device. */
  match(identity: DeviceIdentity, udid: string, allowUnbound: boolean): AuthenticatedDevice | null {
    const { device } = identity;
    if (!device) {
      if (allowUnbound) return null;
      throw new DeviceAuthError('the certificate is not bound to a device yet: send Authenticate first');
    }
    if (device.udid && device.udid.toLowerCase() !== udid.toLowerCase()) {
      throw new DeviceAuthError('the UDID in the message does not match the device this certificate was issued to');
    }
    return device;
  }

  /** Devices changed: their cached certificate answers are read again. */
  devicesChanged(deviceIds: number[]): void {
    for (const id of deviceIds) this.deviceStamps.set(id, ++this.deviceStampCounter);
  }

  /**
   * Runs an authentication step; a DeviceAuthError becomes a refusal. A refusal makes a real
   * device remove its MDM profile: it says clearly why (in our words), the log says more.
   */
  async orRefuse<T>(step: () => Promise<T> | T, udid?: string): Promise<T | { refused: DeviceOutcome }> {
    try {
      return await step();
    } catch (err) {
      if (err instanceof DeviceAuthError) {
        this.logger.warn(
          { ...(udid ? { udid: echo(udid, 64) } : {}), reason: err.message, detail: err.detail },
          'device authentication failed: answering 401',
        );
        return { refused: { kind: 'refused', reason: err.message } };
      }
      throw err;
    }
  }

  private forwardedCertificateFingerprint(value: string): string {
    try {
      const text = decodeURIComponent(value);
      const cert = text.includes('BEGIN CERTIFICATE') ? new X509Certificate(text) : new X509Certificate(Buffer.from(text, 'base64'));
      if (!cert.checkIssued(this.trust.trustAnchor) || !cert.verify(this.trust.trustAnchor.publicKey))
        throw new Error('not issued by the mockiron CA');
      return cert.fingerprint256;
    } catch (err) {
      throw new DeviceAuthError('forwarded client certificate rejected', (err as Error).message);
    }
  }
}
