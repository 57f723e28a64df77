// The server's signing identity in use: signs every profile mockiron hands out, caching the
// signed bytes by content hash so an unchanged profile is not signed again.
import { createHash } from 'node:crypto';
import type { X509Certificate } from 'node:crypto';
import { signCms } from '../lib/pki/cms.js';
import type { CertificateAuthority, KeyType, SigningIdentity } from './identity.js';
import { loadOrCreateSigningIdentity } from './identity-store.js';

const cacheLimit = 2000;

export class SigningService {
  private signed = new Map<string, Buffer>();

  constructor(
    readonly identity: SigningIdentity,
    /** Our CA, when its key is held here (not after importing an outside identity). */
    readonly ca: CertificateAuthority | undefined,
  ) {}

  static async open(dataDir: string, keyType: KeyType): Promise<{ service: SigningService; created: boolean }> {
    const stored = await loadOrCreateSigningIdentity(dataDir, { keyType });
    return { service: new SigningService(stored.identity, stored.ca), created: stored.created };
  }

  /** The trust anchor devices and verifiers need. */
  get trustAnchor(): X509Certificate {
    return this.identity.trustAnchor;
  }

  caPem(): string {
    return this.trustAnchor.toString();
  }

  caDer(): Buffer {
    return this.trustAnchor.raw;
  }

  static contentHash(content: Buffer | string): string {
    return createHash('sha256').update(content).digest('hex');
  }

  /** DER CMS SignedData with `content` attached; cached by content hash. */
  sign(content: Buffer): Buffer {
    const key = SigningService.contentHash(content);
    let out = this.signed.get(key);
    if (!out) {
      out = this.signOnce(content);
      // Simple bound: forget everything when full (profiles re-sign on demand, cheaply).
      if (this.signed.size >= cacheLimit) this.signed.clear();
      this.signed.set(key, out);
    }
    return out;
  }

  /** Sign without caching, e.g. for one-off enrollment profiles carrying secrets. */
  signOnce(content: Buffer): Buffer {
    return signCms(content, this.signer);
  }

  /**
   * One signer object for the identity: the CMS encoder keeps what does not depend on the content
   * (the key/certificate check, issuer and serial, the embedded certificates) per signer object,
   * so a new object per profile redid all of that — about a third of signing a profile.
   */
  private get signer() {
    this.cmsSigner ??= {
      privateKey: this.identity.privateKey,
      certificate: this.identity.certificate,
      chain: [...this.identity.chain],
    };
    return this.cmsSigner;
  }
  private cmsSigner: Parameters<typeof signCms>[1] | undefined;
}
