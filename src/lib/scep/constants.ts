// SCEP (RFC 8894) identifiers and the small enumerations carried in its signed attributes.

/** id-VeriSign id-pki id-attributes (2.16.840.1.113733.1.9) and the CMS/PKCS#9 OIDs SCEP needs. */
export const SCEP_OID = {
  messageType: '2.16.840.1.113733.1.9.2',
  pkiStatus: '2.16.840.1.113733.1.9.3',
  failInfo: '2.16.840.1.113733.1.9.4',
  senderNonce: '2.16.840.1.113733.1.9.5',
  recipientNonce: '2.16.840.1.113733.1.9.6',
  transactionID: '2.16.840.1.113733.1.9.7',
  /** id-pkix 24.1 (RFC 8894 §3.2.1.4): optional human-readable failure text. */
  failInfoText: '1.3.6.1.5.5.7.24.1',

  envelopedData: '1.2.840.113549.1.7.3',
  challengePassword: '1.2.840.113549.1.9.7',
  extensionRequest: '1.2.840.113549.1.9.14',
  /** Microsoft's pre-standard extension request, still sent by some clients. */
  msExtensionRequest: '1.3.6.1.4.1.311.2.1.14',

  rsaesOaep: '1.2.840.113549.1.1.7',
  aes128Cbc: '2.16.840.1.101.3.4.1.2',
  aes192Cbc: '2.16.840.1.101.3.4.1.22',
  aes256Cbc: '2.16.840.1.101.3.4.1.42',
  desEde3Cbc: '1.2.840.113549.3.7',
} as const;

/** RFC 8894 §3.2.1.2 messageType values (sent as decimal PrintableStrings). */
export const MESSAGE_TYPE_CODE = {
  CertRep: 3,
  RenewalReq: 17,
  PKCSReq: 19,
  /** Called CertPoll in RFC 8894. */
  GetCertInitial: 20,
  GetCert: 21,
  GetCRL: 22,
} as const;
export type MessageTypeName = keyof typeof MESSAGE_TYPE_CODE;

/** The request types this layer handles. */
export type RequestMessageType = 'PKCSReq' | 'RenewalReq' | 'GetCertInitial';

/** RFC 8894 §3.2.1.3 pkiStatus values. */
export const PKI_STATUS_CODE = { SUCCESS: 0, FAILURE: 2, PENDING: 3 } as const;
export type PkiStatus = keyof typeof PKI_STATUS_CODE;

/** RFC 8894 §3.2.1.4 failInfo values. */
export const FAIL_INFO_CODE = { badAlg: 0, badMessageCheck: 1, badRequest: 2, badTime: 3, badCertId: 4 } as const;
export type FailInfo = keyof typeof FAIL_INFO_CODE;

export type ContentEncryption = 'aes128' | 'aes192' | 'aes256' | 'des3';

export interface ContentEncryptionSpec {
  readonly oid: string;
  /** node:crypto cipher name. */
  readonly cipher: string;
  readonly keyLength: number;
  readonly ivLength: number;
}

export const CONTENT_ENCRYPTION: Readonly<Record<ContentEncryption, ContentEncryptionSpec>> = {
  aes128: { oid: SCEP_OID.aes128Cbc, cipher: 'aes-128-cbc', keyLength: 16, ivLength: 16 },
  aes192: { oid: SCEP_OID.aes192Cbc, cipher: 'aes-192-cbc', keyLength: 24, ivLength: 16 },
  aes256: { oid: SCEP_OID.aes256Cbc, cipher: 'aes-256-cbc', keyLength: 32, ivLength: 16 },
  des3: { oid: SCEP_OID.desEde3Cbc, cipher: 'des-ede3-cbc', keyLength: 24, ivLength: 8 },
};

export function contentEncryptionForOid(oid: string): ContentEncryption | undefined {
  return (Object.keys(CONTENT_ENCRYPTION) as ContentEncryption[]).find((name) => CONTENT_ENCRYPTION[name].oid === oid);
}

/** RFC 8894 sends transactionID as a PrintableString, so only these characters can be echoed back. */
export function isPrintableString(text: string): boolean {
  return /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(text);
}
