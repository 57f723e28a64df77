import forge from 'node-forge';

// Reads the content of a signed (DER CMS / PKCS#7 SignedData) .mobileconfig without verifying
// it, and names the signer. This walks the structure with node-forge's DER parser rather than
// forge.pkcs7.messageFromAsn1, because that refuses any message whose certificates are not RSA
// ("OID is not RSA") — and ECDSA-signed profiles (Let's Encrypt E-series chains) are common.
// Verification belongs to src/signing.

export class SignedContentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SignedContentError';
  }
}

export interface SignedContent {
  /** The encapsulated content (for a profile: the XML or binary plist). */
  content: Uint8Array;
  /** Subject DNs of the certificates whose issuer and serial match a SignerInfo. */
  signers: string[];
  /** Subject DNs of every certificate in the message, in order. */
  certificates: string[];
}

const SIGNED_DATA_OID = '1.2.840.113549.1.7.2';
const NAME_ATTRIBUTES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '0.9.2342.19200300.100.1.1': 'UID',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

type Asn1 = forge.asn1.Asn1;
const { Class, Type } = forge.asn1;

function children(node: Asn1 | undefined): Asn1[] {
  return node && Array.isArray(node.value) ? node.value : [];
}

function bytesOf(node: Asn1): string {
  // A constructed OCTET STRING (BER-style, which some signers emit) is its pieces concatenated.
  return Array.isArray(node.value) ? node.value.map(bytesOf).join('') : node.value;
}

function nameToString(name: Asn1 | undefined): string {
  const parts: string[] = [];
  for (const rdn of children(name)) {
    for (const attr of children(rdn)) {
      const [oidNode, valueNode] = children(attr);
      if (!oidNode || !valueNode || typeof oidNode.value !== 'string') continue;
      const oid = forge.asn1.derToOid(oidNode.value);
      const raw = typeof valueNode.value === 'string' ? valueNode.value : '';
      let text = raw;
      if (valueNode.type === Type.UTF8) {
        try {
          text = forge.util.decodeUtf8(raw);
        } catch {
          text = raw;
        }
      }
      parts.push(`${NAME_ATTRIBUTES[oid] ?? oid}=${text}`);
    }
  }
  return parts.join(', ');
}

interface CertificateIds {
  subject: string;
  issuer: string;
  serial: string;
}

function certificateIds(cert: Asn1): CertificateIds {
  const tbs = children(children(cert)[0]);
  // tbsCertificate starts with an optional [0] EXPLICIT version.
  const i = tbs[0]?.tagClass === Class.CONTEXT_SPECIFIC ? 1 : 0;
  return {
    serial: forge.util.bytesToHex(String(tbs[i]?.value ?? '')),
    issuer: nameToString(tbs[i + 2]),
    subject: nameToString(tbs[i + 4]),
  };
}

/** True when bytes start like a DER SEQUENCE, i.e. could be a CMS message. */
export function looksLikeDer(bytes: Uint8Array): boolean {
  return bytes.length > 2 && bytes[0] === 0x30;
}

export function extractSignedContent(der: Uint8Array): SignedContent {
  let root: Asn1;
  try {
    root = forge.asn1.fromDer(forge.util.createBuffer(Buffer.from(der).toString('binary')));
  } catch (err) {
    throw new SignedContentError(`not a DER CMS message: ${err instanceof Error ? err.message : String(err)}`);
  }
  const [typeNode, explicitContent] = children(root);
  if (!typeNode || typeNode.type !== Type.OID || forge.asn1.derToOid(String(typeNode.value)) !== SIGNED_DATA_OID) {
    throw new SignedContentError('not a CMS SignedData message');
  }
  const signedData = children(children(explicitContent)[0]);
  const encapsulated = children(signedData[2]);
  const contentNode = children(encapsulated[1])[0];
  if (!contentNode) throw new SignedContentError('the signed message carries no content (detached signature)');

  const certs = signedData
    .filter((n) => n.tagClass === Class.CONTEXT_SPECIFIC && n.type === 0)
    .flatMap(children)
    .map(certificateIds);
  const signerInfos = children(signedData[signedData.length - 1]);
  const signers: string[] = [];
  for (const info of signerInfos) {
    const sid = children(info)[1];
    if (sid && sid.tagClass === Class.UNIVERSAL && sid.type === Type.SEQUENCE) {
      const [issuer, serial] = children(sid);
      const issuerText = nameToString(issuer);
      const serialHex = forge.util.bytesToHex(String(serial?.value ?? ''));
      const match = certs.find((c) => c.serial === serialHex && c.issuer === issuerText);
      signers.push(match ? match.subject : `issuer ${issuerText}, serial ${serialHex} (certificate not included)`);
    } else if (sid) {
      signers.push(`subject key identifier ${forge.util.bytesToHex(bytesOf(sid))} (certificate not matched)`);
    }
  }
  return {
    content: Buffer.from(bytesOf(contentNode), 'binary'),
    signers,
    certificates: certs.map((c) => c.subject),
  };
}
