// Enrollment as an iOS device performs it against the public endpoints. The enrollment profile
// (root CA, SCEP or PKCS#12 identity, com.apple.mdm) comes one of three ways (enroll-modes.ts):
//   ota:  1. GET the enrollment URL → a signed profile with a "Profile Service" payload;
//         2. POST the requested device attributes, CMS-signed by the device key, to its URL;
//   direct: GET a direct enrollment profile URL → the profile itself, signed or plain XML;
//   machine-info: POST MachineInfo, CMS-signed by the device key, to the enrollment URL;
// then, every way:
//   3. obtain the identity (SCEP PKCSReq, or open the PKCS#12);
//   4. Authenticate and TokenUpdate on the CheckInURL, signed with that identity.

import { createHash, createPrivateKey, randomBytes, randomUUID, X509Certificate, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { signMdmRequest } from '../lib/mdm-protocol/index.js';
import { detectPlistFormat, isPlistDict, parsePlist, toXmlPlist, type PlistDict, type PlistValue } from '../lib/plist/index.js';
import { buildPkcsReq, parseCertRep, selfSignedCertificate, type BuiltPkiRequest, type CertRep } from '../lib/scep/index.js';
import { readCertsOnly } from '../lib/scep/signed-data.js';
import { CmsVerifyError, signCms, verifyCms } from '../lib/pki/cms.js';
import { OID } from '../lib/pki/oids.js';
import type { ContentEncryption } from '../lib/pki/enveloped-data.js';
import { derToPem, type SubjectName } from '../lib/pki/x509.js';
import { headerValue, HttpError, type HttpClient, type HttpResponse } from './http.js';
import type { DeviceIdentity } from './identity.js';
import type { InstalledProfileState, MdmEnrollmentState } from './state.js';
import { profileProblem, type IdentityProblem } from './commands.js';
import type { EnrollMode } from './enroll-modes.js';

export type EnrollmentStage =
  | 'ota-profile'
  | 'ota-attributes'
  | 'direct-profile'
  | 'machine-info'
  | 'enrollment-profile'
  | 'scep'
  | 'pkcs12'
  | 'authenticate'
  | 'token-update';

export class SimulatorEnrollmentError extends Error {
  constructor(
    readonly stage: EnrollmentStage,
    message: string,
    /** The HTTP status the server answered, when it answered. */
    readonly httpStatus?: number,
    /** For the identity stages: what went wrong, so a device can answer with the ErrorChain iOS would. */
    readonly problem?: IdentityProblem,
  ) {
    super(`${stage}: ${message}`);
    this.name = 'SimulatorEnrollmentError';
  }
}

/** Kept in memory after an enrollment so the replay-challenge fault can send the same things again. */
export interface EnrollmentArtifacts {
  /** OTA: where phase 2 went. */
  profileServiceUrl?: string;
  /** OTA: the exact signed attributes body POSTed in phase 2 (its CHALLENGE is now used up). */
  signedAttributes?: Buffer;
  /** Direct: the one-use profile URL, now spent. */
  directProfileUrl?: string;
  scep?: {
    url: string;
    /** Absent when the payload had none (Apple makes it optional; our server then refuses). */
    challenge?: string;
    subject: SubjectName;
    sans?: string[];
    caCert: X509Certificate;
    raCert?: X509Certificate;
    postSupported: boolean;
    /** What GetCACaps allowed: AES when advertised, else DES3 (RFC 8894 §3.5.2). */
    encryption: ContentEncryption;
  };
}

export interface EnrollmentResult {
  mdm: MdmEnrollmentState;
  /** The enrollment profile as the device now holds it. */
  profile: InstalledProfileState;
  /** Root certificates the profile installed (PEM), trusted from now on. */
  rootCertificatesPem: string[];
  artifacts: EnrollmentArtifacts;
}

import { rsaKey } from './key-pool.js';
export { rsaKey };

async function expectOk(
  http: HttpClient,
  stage: EnrollmentStage,
  kind: string,
  url: string,
  options: Parameters<HttpClient['request']>[2] = {},
): Promise<HttpResponse> {
  let response: HttpResponse | undefined;
  try {
    response = await http.request(kind, url, { ...options, dropAfterSend: false });
  } catch (err) {
    if (err instanceof HttpError) throw new SimulatorEnrollmentError(stage, err.message, undefined, 'network');
    throw err;
  }
  if (response!.status !== 200) {
    throw new SimulatorEnrollmentError(
      stage,
      `${options.method ?? 'GET'} ${url} answered ${response!.status}: ${response!.body.toString('utf8').slice(0, 200)}`,
      response!.status,
      'network',
    );
  }
  return response!;
}

/** Verifies a signed profile against the trusted CAs and returns its plist. */
function readSignedProfile(stage: EnrollmentStage, body: Buffer, trustAnchorsPem: readonly string[]): PlistDict {
  return readProfile(stage, body, trustAnchorsPem, { allowPlain: false }).profile;
}

/**
 * A profile as iOS reads it: CMS-signed (verified against the trusted CAs) or, where the
 * server may hand it out plain (a direct profile with signed=false), a bare plist.
 */
function readProfile(
  stage: EnrollmentStage,
  body: Buffer,
  trustAnchorsPem: readonly string[],
  options: { allowPlain: boolean },
): { profile: PlistDict; content: Buffer; signerCertificatePem?: string } {
  if (options.allowPlain && detectPlistFormat(body)) return { profile: plistDictOf(stage, body, 'the profile'), content: body };
  let content: Buffer;
  let signerCertificatePem: string;
  try {
    const verified = verifyCms(body, { trustAnchors: trustAnchorsPem });
    content = verified.content;
    signerCertificatePem = verified.signer.certificatePem;
  } catch (err) {
    if (err instanceof CmsVerifyError)
      throw new SimulatorEnrollmentError(
        stage,
        `the profile's signature does not verify against the server CA (${err.code}: ${err.message})`,
      );
    throw err;
  }
  return { profile: plistDictOf(stage, content, 'the signed content'), content, signerCertificatePem };
}

function plistDictOf(stage: EnrollmentStage, bytes: Buffer, what: string): PlistDict {
  let value: PlistValue;
  try {
    value = parsePlist(bytes);
  } catch (err) {
    throw new SimulatorEnrollmentError(stage, `${what} is not a property list: ${(err as Error).message}`);
  }
  if (!isPlistDict(value)) throw new SimulatorEnrollmentError(stage, 'the profile is not a dictionary');
  return value;
}

function payloadsOf(profile: PlistDict): PlistDict[] {
  return Array.isArray(profile.PayloadContent) ? profile.PayloadContent.filter(isPlistDict) : [];
}

function stringField(stage: EnrollmentStage, dict: PlistDict, key: string, where: string): string {
  const value = dict[key];
  if (typeof value !== 'string' || value === '') throw new SimulatorEnrollmentError(stage, `${where}: ${key} is missing`);
  return value;
}

/** The Profile Service payload: at the top level (as Apple's guide shows it) or inside a Configuration profile. */
export function findProfileService(profile: PlistDict): { url: string; deviceAttributes: string[]; challenge?: string } {
  const service =
    profile.PayloadType === 'Profile Service' ? profile : payloadsOf(profile).find((p) => p.PayloadType === 'Profile Service');
  if (!service) throw new SimulatorEnrollmentError('ota-profile', 'the enrollment profile has no "Profile Service" payload');
  const content = service.PayloadContent;
  if (!isPlistDict(content)) throw new SimulatorEnrollmentError('ota-profile', 'Profile Service: PayloadContent is not a dictionary');
  const attributes = Array.isArray(content.DeviceAttributes)
    ? content.DeviceAttributes.filter((a): a is string => typeof a === 'string')
    : [];
  const challenge = content.Challenge;
  return {
    url: stringField('ota-profile', content, 'URL', 'Profile Service'),
    deviceAttributes: attributes,
    ...(typeof challenge === 'string' && { challenge }),
  };
}

/** The plist of device attributes a Profile Service asked for (keys as iOS sends them). */
export function deviceAttributesPlist(identity: DeviceIdentity, requested: readonly string[], challenge: string | undefined): PlistDict {
  const available: Record<string, string | undefined> = {
    UDID: identity.udid,
    // iOS sends the build number here, e.g. "13E238"
    VERSION: identity.buildVersion,
    PRODUCT: identity.productName,
    SERIAL: identity.serialNumber,
    IMEI: identity.imei,
    DEVICE_NAME: identity.deviceName,
    MAC_ADDRESS_EN0: identity.wifiMac,
  };
  const dict: PlistDict = {};
  for (const key of requested) if (available[key] !== undefined) dict[key] = available[key];
  dict.UDID = identity.udid;
  if (challenge !== undefined) dict.CHALLENGE = challenge;
  return dict;
}

const SUBJECT_KEYS: Record<string, keyof SubjectName> = {
  CN: 'commonName',
  [OID.commonName]: 'commonName',
  O: 'organization',
  [OID.organizationName]: 'organization',
  OU: 'organizationalUnit',
  [OID.organizationalUnitName]: 'organizationalUnit',
  C: 'country',
  [OID.countryName]: 'country',
};

/** The SCEP payload's Subject ([[["O","x"]],[["CN","y"]]]) as a SubjectName; unsupported attributes are left out. */
export function scepSubjectName(subject: PlistValue | undefined, fallbackCommonName: string): SubjectName {
  const name: Partial<SubjectName> = {};
  if (Array.isArray(subject)) {
    for (const rdn of subject) {
      if (!Array.isArray(rdn)) continue;
      for (const pair of rdn) {
        if (!Array.isArray(pair) || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') continue;
        const key = SUBJECT_KEYS[pair[0]];
        if (key) name[key] = pair[1];
      }
    }
  }
  return { ...name, commonName: name.commonName ?? fallbackCommonName };
}

function withQuery(base: string, params: Record<string, string>): string {
  const url = new URL(base);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.toString();
}

function isSelfSigned(cert: X509Certificate): boolean {
  try {
    return cert.checkIssued(cert) && cert.verify(cert.publicKey);
  } catch {
    return false;
  }
}

/** GetCACert's answer: a bare DER CA certificate, or a certs-only PKCS#7 with the CA and an RA. */
export function readCaCertResponse(response: HttpResponse): { caCert: X509Certificate; raCert?: X509Certificate } {
  const type = headerValue(response.headers, 'content-type') ?? '';
  let certificates: X509Certificate[];
  try {
    certificates = type.includes('ca-ra-cert') ? readCertsOnly(response.body) : [new X509Certificate(response.body)];
  } catch (err) {
    throw new SimulatorEnrollmentError(
      'scep',
      `GetCACert: unreadable certificate(s) (${type || 'no content type'}): ${(err as Error).message}`,
      undefined,
      'ca-response',
    );
  }
  const caCert = certificates.find((c) => c.ca && isSelfSigned(c)) ?? certificates.find((c) => c.ca) ?? certificates[0];
  if (!caCert) throw new SimulatorEnrollmentError('scep', 'GetCACert returned no certificate', undefined, 'ca-response');
  const raCert = certificates.find((c) => c !== caCert && !c.ca);
  return raCert ? { caCert, raCert } : { caCert };
}

export interface ScepEnrollment {
  privateKey: KeyObject;
  certificate: X509Certificate;
  artifacts: NonNullable<EnrollmentArtifacts['scep']>;
}

async function sendPkiOperation(
  http: HttpClient,
  kind: string,
  url: string,
  request: BuiltPkiRequest,
  postSupported: boolean,
): Promise<HttpResponse> {
  if (postSupported) {
    return expectOk(http, 'scep', kind, withQuery(url, { operation: 'PKIOperation' }), {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-pki-message' },
      body: request.der,
    });
  }
  return expectOk(http, 'scep', kind, withQuery(url, { operation: 'PKIOperation', message: request.der.toString('base64') }));
}

/** One PKCSReq with `challenge`; returns the parsed CertRep (any status). Used for enrollment and the replay probe. */
export async function scepRequest(
  http: HttpClient,
  kind: string,
  scep: NonNullable<EnrollmentArtifacts['scep']>,
  privateKey: KeyObject,
): Promise<{ certRep: CertRep; request: BuiltPkiRequest }> {
  let request: BuiltPkiRequest;
  try {
    request = buildPkcsReq({
      caCert: scep.caCert,
      ...(scep.raCert && { recipientCert: scep.raCert }),
      privateKey,
      subject: scep.subject,
      ...(scep.challenge !== undefined && { challengePassword: scep.challenge }),
      ...(scep.sans?.length && { sans: scep.sans }),
      encryption: scep.encryption,
    });
  } catch (err) {
    // The codec refuses what it cannot encode (a name, a CA key that is not RSA): the request is never sent
    if (err instanceof RangeError)
      throw new SimulatorEnrollmentError('scep', `cannot build the request: ${err.message}`, undefined, 'payload');
    throw err;
  }
  const response = await sendPkiOperation(http, kind, scep.url, request, scep.postSupported);
  let certRep: CertRep;
  try {
    certRep = parseCertRep(response.body, {
      requesterKey: privateKey,
      requesterCert: request.signer.certificate,
      caCert: scep.caCert,
      ...(scep.raCert && { raCert: scep.raCert }),
      expectedTransactionID: request.transactionID,
      expectedRecipientNonce: request.senderNonce,
    });
  } catch (err) {
    throw new SimulatorEnrollmentError('scep', `unreadable CertRep: ${(err as Error).message}`, undefined, 'pki-response');
  }
  return { certRep, request };
}

/** Key sizes Apple's schema lists for Keysize (com.apple.security.scep.yaml); anything else is refused, not generated. */
const SCEP_KEY_SIZES: readonly number[] = [1024, 2048, 4096];
/** Bounds on what a profile may ask of the device: a hostile profile must not make it loop or build huge requests. */
const MAX_SCEP_RETRIES = 5;
const MAX_RETRY_DELAY_SECONDS = 2;
const MAX_SUBJECT_ALT_NAMES = 16;
const MAX_NAME_LENGTH = 256;
const SAN_KEYS = ['rfc822Name', 'dNSName', 'uniformResourceIdentifier', 'ntPrincipalName'] as const;

/** A SCEP payload's settings as iOS reads them (Apple's com.apple.security.scep.yaml), checked and bounded. */
export interface ScepPayloadSettings {
  url: string;
  name?: string;
  challenge?: string;
  subject: SubjectName;
  sans: string[];
  /** RSA modulus in bits; Apple's default is 1024. */
  keysize: number;
  /** Bitmask: 1 signing, 4 encryption (Apple: 0 by default). */
  keyUsage: number;
  caFingerprint?: Buffer;
  retries: number;
  retryDelaySeconds: number;
}

function payloadProblem(message: string, problem: IdentityProblem = 'payload'): SimulatorEnrollmentError {
  return new SimulatorEnrollmentError('scep', message, undefined, problem);
}

const DNS_NAME = /^(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.?$/;
const EMAIL = /^[\x21-\x7e]+@[\x21-\x7e]+$/;
/** RFC 3986: a scheme, a colon, then printable ASCII. */
const URI = /^[A-Za-z][A-Za-z0-9+.-]*:[\x21-\x7e]+$/;
const NT_PRINCIPAL_NAME = /^[^\s@]+@[^\s@]+$/;

/**
 * SubjectAltName: each key holds a string or an array of strings. The CSR builder tells the kinds
 * apart by their form (e-mail "@", URI "://", else a DNS name), so a value whose form does not
 * match its key is refused rather than requested as the wrong kind. An ntPrincipalName (an
 * otherName) and a URI without "://" (urn:…) are checked but not requested: the CSR builder cannot
 * encode them as such, and the CA's own template decides what the certificate carries.
 */
function subjectAltNames(value: PlistValue | undefined): string[] {
  if (value === undefined) return [];
  if (!isPlistDict(value)) throw payloadProblem('SCEP payload: SubjectAltName is not a dictionary');
  const names: string[] = [];
  for (const key of Object.keys(value)) {
    if (!(SAN_KEYS as readonly string[]).includes(key))
      throw payloadProblem(`SCEP payload: SubjectAltName.${key} is not a key Apple defines`);
    const entry = value[key];
    const list = typeof entry === 'string' ? [entry] : Array.isArray(entry) ? entry : undefined;
    if (!list || list.length > MAX_SUBJECT_ALT_NAMES || list.some((v) => typeof v !== 'string' || v === '' || v.length > MAX_NAME_LENGTH)) {
      throw payloadProblem(
        `SCEP payload: SubjectAltName.${key} must be a string or an array of at most ${MAX_SUBJECT_ALT_NAMES} strings (1..${MAX_NAME_LENGTH} characters)`,
      );
    }
    for (const name of list as string[]) {
      const valid =
        key === 'rfc822Name'
          ? EMAIL.test(name) && !name.includes('://')
          : key === 'dNSName'
            ? DNS_NAME.test(name)
            : key === 'uniformResourceIdentifier'
              ? URI.test(name)
              : NT_PRINCIPAL_NAME.test(name);
      if (!valid) throw payloadProblem(`SCEP payload: SubjectAltName.${key} "${name}" is not a valid ${key}`);
      // The CSR builder tells URIs by "://" and has no otherName: those are left to the CA's template
      if (key === 'ntPrincipalName' || (key === 'uniformResourceIdentifier' && !name.includes('://'))) continue;
      names.push(name);
    }
  }
  if (names.length > MAX_SUBJECT_ALT_NAMES) throw payloadProblem(`SCEP payload: more than ${MAX_SUBJECT_ALT_NAMES} SubjectAltName values`);
  return names;
}

function optionalString(content: PlistDict, key: string): string | undefined {
  const value = content[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length > 4096)
    throw payloadProblem(`SCEP payload: ${key} must be a string of at most 4096 characters`);
  return value;
}

function boundedInteger(content: PlistDict, key: string, fallback: number, max: number): number {
  const value = content[key];
  if (value === undefined) return Math.min(fallback, max);
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
    throw payloadProblem(`SCEP payload: ${key} must be a non-negative integer`);
  return Math.min(value, max);
}

/** Reads a com.apple.security.scep payload; throws SimulatorEnrollmentError (stage scep) naming what is wrong. */
export function readScepPayload(payload: PlistDict, fallbackCommonName: string): ScepPayloadSettings {
  const content = payload.PayloadContent;
  if (!isPlistDict(content)) throw payloadProblem('SCEP payload: PayloadContent is not a dictionary');
  const url = stringField('scep', content, 'URL', 'SCEP payload');
  if (url.length > 4096 || !URL.canParse(url)) throw payloadProblem('SCEP payload: URL is not a URL');
  const keysize = content.Keysize ?? 1024;
  if (typeof keysize !== 'number' || !SCEP_KEY_SIZES.includes(keysize)) {
    throw payloadProblem(`SCEP payload: Keysize ${String(keysize)} is not one of ${SCEP_KEY_SIZES.join(', ')}`, 'keysize');
  }
  const keyUsage = content['Key Usage'] ?? 0;
  // iOS refuses any bit other than 1 (signing) and 4 (encryption)
  if (typeof keyUsage !== 'number' || !Number.isInteger(keyUsage) || keyUsage < 0 || (keyUsage & ~5) !== 0) {
    throw payloadProblem(`SCEP payload: Key Usage ${String(keyUsage)} is not a combination of 1 (signing) and 4 (encryption)`, 'key-usage');
  }
  const keyType = content['Key Type'];
  if (keyType !== undefined && keyType !== 'RSA') throw payloadProblem(`SCEP payload: Key Type ${String(keyType)} is not RSA`, 'keysize');
  const fingerprint = content.CAFingerprint;
  if (fingerprint !== undefined && (!(fingerprint instanceof Uint8Array) || ![16, 20, 32].includes(fingerprint.byteLength))) {
    throw payloadProblem('SCEP payload: CAFingerprint must be the MD5, SHA-1 or SHA-256 digest of the CA certificate (data)');
  }
  if (Array.isArray(content.Subject) && content.Subject.length > 32) throw payloadProblem('SCEP payload: Subject has more than 32 RDNs');
  const subject = scepSubjectName(content.Subject, fallbackCommonName);
  if (Object.values(subject).some((v) => typeof v === 'string' && v.length > MAX_NAME_LENGTH)) {
    throw payloadProblem(`SCEP payload: a Subject value is longer than ${MAX_NAME_LENGTH} characters`);
  }
  const name = optionalString(content, 'Name');
  const challenge = optionalString(content, 'Challenge');
  return {
    url,
    ...(name !== undefined && { name }),
    ...(challenge !== undefined && { challenge }),
    subject,
    sans: subjectAltNames(content.SubjectAltName),
    keysize,
    keyUsage,
    ...(fingerprint instanceof Uint8Array && { caFingerprint: Buffer.from(fingerprint) }),
    retries: boundedInteger(content, 'Retries', 3, MAX_SCEP_RETRIES),
    // RetryDelay is in seconds and defaults to 10; a simulator waits at most 2 s
    retryDelaySeconds: boundedInteger(content, 'RetryDelay', 10, MAX_RETRY_DELAY_SECONDS),
  };
}

/** The CA certificate matches the payload's CAFingerprint (its length says the digest: MD5, SHA-1 or SHA-256). */
function checkCaFingerprint(caCert: X509Certificate, fingerprint: Buffer): void {
  const algorithm = fingerprint.length === 16 ? 'md5' : fingerprint.length === 20 ? 'sha1' : 'sha256';
  const actual = createHash(algorithm).update(caCert.raw).digest();
  if (!actual.equals(fingerprint)) {
    throw new SimulatorEnrollmentError(
      'scep',
      `the CA certificate's ${algorithm.toUpperCase()} fingerprint ${actual.toString('hex')} is not the payload's CAFingerprint ${fingerprint.toString('hex')}`,
      undefined,
      'ca-fingerprint',
    );
  }
}

/** RFC 8894 §3.5.2: AES when the CA advertises it (SCEPStandard implies it), else DES3, as iOS falls back. */
function encryptionFromCaps(caps: string): ContentEncryption {
  return /^(AES|SCEPStandard)$/im.test(caps) ? 'aes128' : 'des3';
}

/**
 * Obtains the identity a com.apple.security.scep payload describes, as iOS does: GetCACaps,
 * GetCACert (checked against CAFingerprint), a key of Keysize bits, a PKCSReq with the payload's
 * Subject, SubjectAltName and Challenge, polling while PENDING. Throws SimulatorEnrollmentError
 * (stage scep) whose `problem` says what failed.
 */
export async function enrollWithScep(http: HttpClient, payload: PlistDict, identity: DeviceIdentity): Promise<ScepEnrollment> {
  const settings = readScepPayload(payload, identity.udid);
  const { url } = settings;
  const name = settings.name ?? 'mockiron';
  const caps = (await expectOk(http, 'scep', 'scep-getcacaps', withQuery(url, { operation: 'GetCACaps', message: name }))).body.toString(
    'utf8',
  );
  const postSupported = /^POSTPKIOperation$/im.test(caps);
  const caResponse = await expectOk(http, 'scep', 'scep-getcacert', withQuery(url, { operation: 'GetCACert', message: name }));
  const scep: NonNullable<EnrollmentArtifacts['scep']> = {
    url,
    ...(settings.challenge !== undefined && { challenge: settings.challenge }),
    subject: settings.subject,
    ...(settings.sans.length > 0 && { sans: settings.sans }),
    ...readCaCertResponse(caResponse),
    postSupported,
    encryption: encryptionFromCaps(caps),
  };
  if (settings.caFingerprint) checkCaFingerprint(scep.caCert, settings.caFingerprint);
  let privateKey: KeyObject;
  try {
    privateKey = await rsaKey(settings.keysize);
  } catch (err) {
    throw new SimulatorEnrollmentError(
      'scep',
      `cannot generate a ${settings.keysize}-bit RSA key: ${(err as Error).message}`,
      undefined,
      'keysize',
    );
  }
  let { certRep, request } = await scepRequest(http, 'scep-pkioperation', scep, privateKey);
  for (let attempt = 0; certRep.status === 'PENDING' && attempt < settings.retries; attempt++) {
    await new Promise((r) => setTimeout(r, settings.retryDelaySeconds * 1000));
    const poll = buildPkcsReq({
      messageType: 'GetCertInitial',
      caCert: scep.caCert,
      ...(scep.raCert && { recipientCert: scep.raCert }),
      subject: scep.subject,
      signer: request.signer,
      transactionID: request.transactionID,
      encryption: scep.encryption,
    });
    const response = await sendPkiOperation(http, 'scep-getcertinitial', url, poll, postSupported);
    try {
      certRep = parseCertRep(response.body, {
        requesterKey: privateKey,
        requesterCert: request.signer.certificate,
        caCert: scep.caCert,
        ...(scep.raCert && { raCert: scep.raCert }),
        expectedTransactionID: request.transactionID,
        expectedRecipientNonce: poll.senderNonce,
      });
    } catch (err) {
      throw new SimulatorEnrollmentError('scep', `unreadable CertRep: ${(err as Error).message}`, undefined, 'pki-response');
    }
    request = { ...request, senderNonce: poll.senderNonce };
  }
  if (certRep.status !== 'SUCCESS') {
    const why =
      certRep.status === 'FAILURE' ? `${certRep.failInfo}${certRep.failInfoText ? ` (${certRep.failInfoText})` : ''}` : 'still PENDING';
    throw new SimulatorEnrollmentError('scep', `the CA refused the request: ${why}`, undefined, 'refused');
  }
  const certificate = certRep.certificates.find((c) => c.checkPrivateKey(privateKey));
  if (!certificate) throw new SimulatorEnrollmentError('scep', 'the CertRep holds no certificate for our key', undefined, 'certificate');
  return { privateKey, certificate, artifacts: scep };
}

/** Bounds on a PKCS#12 payload: forge derives keys synchronously, so a huge iteration count would stall every device. */
const MAX_PKCS12_BYTES = 64 * 1024;
const MAX_PKCS12_MAC_ITERATIONS = 200_000;

/** MacData's iteration count (RFC 7292 §4: PFX ::= SEQUENCE { version, authSafe, macData { mac, macSalt, iterations DEFAULT 1 } }). */
function macIterations(pfx: forge.asn1.Asn1): number {
  const macData = Array.isArray(pfx.value) ? pfx.value[2] : undefined;
  const iterations = macData && Array.isArray(macData.value) ? macData.value[2] : undefined;
  if (!iterations || typeof iterations.value !== 'string') return 1;
  return iterations.value.length > 4
    ? Number.POSITIVE_INFINITY
    : forge.util.createBuffer(iterations.value).getInt(iterations.value.length * 8);
}

/** Opens a com.apple.security.pkcs12 payload with its Password; throws SimulatorEnrollmentError (stage pkcs12) saying why not. */
export function openPkcs12(payload: PlistDict): { privateKey: KeyObject; certificate: X509Certificate } {
  const data = payload.PayloadContent;
  const password = typeof payload.Password === 'string' ? payload.Password : '';
  if (!(data instanceof Uint8Array)) {
    throw new SimulatorEnrollmentError('pkcs12', 'PKCS#12 payload: PayloadContent is not data', undefined, 'pkcs12-malformed');
  }
  if (data.byteLength > MAX_PKCS12_BYTES) {
    throw new SimulatorEnrollmentError('pkcs12', `PKCS#12 payload: more than ${MAX_PKCS12_BYTES} bytes`, undefined, 'pkcs12-malformed');
  }
  let stage: 'read' | 'open' | 'identity' = 'read';
  try {
    const asn1 = forge.asn1.fromDer(forge.util.createBuffer(Buffer.from(data).toString('binary')));
    if (macIterations(asn1) > MAX_PKCS12_MAC_ITERATIONS) throw new Error(`its MAC iteration count is above ${MAX_PKCS12_MAC_ITERATIONS}`);
    stage = 'open';
    const p12 = forge.pkcs12.pkcs12FromAsn1(asn1, false, password);
    stage = 'identity';
    const keyBag = [
      ...(p12.getBags({ bagType: forge.pki.oids.pkcs8ShroudedKeyBag! })[forge.pki.oids.pkcs8ShroudedKeyBag!] ?? []),
      ...(p12.getBags({ bagType: forge.pki.oids.keyBag! })[forge.pki.oids.keyBag!] ?? []),
    ][0];
    const certBags = p12.getBags({ bagType: forge.pki.oids.certBag! })[forge.pki.oids.certBag!] ?? [];
    if (!keyBag?.key) throw new Error('no private key inside');
    const privateKey = createPrivateKey(forge.pki.privateKeyToPem(keyBag.key));
    const certificate = certBags
      .filter((bag) => bag.cert)
      .map((bag) => new X509Certificate(forge.pki.certificateToPem(bag.cert!)))
      .find((cert) => cert.checkPrivateKey(privateKey));
    if (!certificate) throw new Error('no certificate for the private key inside');
    return { privateKey, certificate };
  } catch (err) {
    if (err instanceof SimulatorEnrollmentError) throw err;
    const message = (err as Error).message;
    // forge says "PKCS#12 MAC could not be verified. Invalid password?" (and fails decrypting bags likewise)
    const problem: IdentityProblem =
      stage === 'identity'
        ? 'pkcs12-no-identity'
        : stage === 'open' && /password|MAC/i.test(message)
          ? 'pkcs12-password'
          : 'pkcs12-malformed';
    throw new SimulatorEnrollmentError('pkcs12', `cannot open the PKCS#12 payload: ${message}`, undefined, problem);
  }
}

export interface MdmSettings {
  serverUrl: string;
  checkInUrl: string;
  topic: string;
  signMessage: boolean;
  identityCertificateUuid: string;
}

export function readMdmPayload(payload: PlistDict): MdmSettings {
  const serverUrl = stringField('enrollment-profile', payload, 'ServerURL', 'com.apple.mdm');
  const checkInUrl = typeof payload.CheckInURL === 'string' && payload.CheckInURL !== '' ? payload.CheckInURL : serverUrl;
  return {
    serverUrl,
    checkInUrl,
    topic: stringField('enrollment-profile', payload, 'Topic', 'com.apple.mdm'),
    // SignMessage defaults to false in Apple's schema
    signMessage: payload.SignMessage === true,
    identityCertificateUuid: stringField('enrollment-profile', payload, 'IdentityCertificateUUID', 'com.apple.mdm'),
  };
}

/** Sends a signed check-in message; returns the response (any status). */
export async function sendCheckin(
  http: HttpClient,
  kind: string,
  mdm: Pick<MdmEnrollmentState, 'checkInUrl' | 'signMessage'>,
  signer: { privateKey: KeyObject; certificate: X509Certificate },
  message: PlistDict,
): Promise<HttpResponse> {
  const body = Buffer.from(toXmlPlist(message), 'utf8');
  const headers: Record<string, string> = { 'Content-Type': 'application/x-apple-aspen-mdm-checkin' };
  if (mdm.signMessage) headers['Mdm-Signature'] = signMdmRequest(body, signer);
  return http.request(kind, mdm.checkInUrl, { method: 'PUT', headers, body, dropAfterSend: false });
}

export function authenticateMessage(identity: DeviceIdentity, topic: string): PlistDict {
  return {
    MessageType: 'Authenticate',
    UDID: identity.udid,
    Topic: topic,
    SerialNumber: identity.serialNumber,
    ProductName: identity.productName,
    OSVersion: identity.osVersion,
    BuildVersion: identity.buildVersion,
    DeviceName: identity.deviceName,
    Model: identity.model,
    ModelName: identity.modelName,
    IMEI: identity.imei,
  };
}

/** MachineInfo as an iOS device sends it (Apple's other/machineinfo.yaml), before it is signed. */
export function machineInfoPlist(identity: DeviceIdentity): PlistDict {
  const dict: PlistDict = {
    UDID: identity.udid,
    SERIAL: identity.serialNumber,
    PRODUCT: identity.productName,
    // the build, e.g. "13E238"; OS_VERSION is the dotted version (sent from iOS 17 on, harmless before)
    VERSION: identity.buildVersion,
    OS_VERSION: identity.osVersion,
    LANGUAGE: 'en',
  };
  if (identity.imei) dict.IMEI = identity.imei;
  return dict;
}

/** The device's own signing key for OTA attributes and MachineInfo: iOS uses one Apple's device CA issued; the server only checks the signature. */
async function deviceSigned(identity: DeviceIdentity, content: Buffer): Promise<Buffer> {
  const key = await rsaKey(2048);
  const certificate = selfSignedCertificate(key, { commonName: identity.udid, organization: 'Apple iPhone Device (mockiron simulator)' });
  return signCms(content, { privateKey: key, certificate });
}

/**
 * Runs the whole enrollment for one device, getting the enrollment profile the way `mode` says
 * from `enrollmentUrl`. Throws SimulatorEnrollmentError naming the failed stage.
 */
export async function enrollDevice(
  http: HttpClient,
  identity: DeviceIdentity,
  enrollmentUrl: string,
  trustAnchorsPem: readonly string[],
  now: () => Date = () => new Date(),
  mode: EnrollMode = 'ota',
): Promise<EnrollmentResult> {
  if (mode === 'direct') {
    const response = await expectOk(http, 'direct-profile', 'direct-profile', enrollmentUrl, {
      headers: { Accept: 'application/x-apple-aspen-config' },
    });
    return finishEnrollment(http, identity, response.body, trustAnchorsPem, now, { directProfileUrl: enrollmentUrl }, true);
  }
  if (mode === 'machine-info') {
    const body = await deviceSigned(identity, Buffer.from(toXmlPlist(machineInfoPlist(identity)), 'utf8'));
    const response = await expectOk(http, 'machine-info', 'machine-info', enrollmentUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/pkcs7-signature' },
      body,
    });
    return finishEnrollment(http, identity, response.body, trustAnchorsPem, now, {}, true);
  }
  // Phase 1: the Profile Service profile
  const otaProfile = await expectOk(http, 'ota-profile', 'ota-profile', enrollmentUrl, {
    headers: { Accept: 'application/x-apple-aspen-config' },
  });
  const service = findProfileService(readSignedProfile('ota-profile', otaProfile.body, trustAnchorsPem));

  // Phase 2: signed device attributes, answered by the enrollment profile.
  const attributes = Buffer.from(toXmlPlist(deviceAttributesPlist(identity, service.deviceAttributes, service.challenge)), 'utf8');
  const signedAttributes = await deviceSigned(identity, attributes);
  const enrollmentResponse = await expectOk(http, 'ota-attributes', 'ota-attributes', service.url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/pkcs7-signature' },
    body: signedAttributes,
  });
  return finishEnrollment(
    http,
    identity,
    enrollmentResponse.body,
    trustAnchorsPem,
    now,
    { profileServiceUrl: service.url, signedAttributes },
    false,
  );
}

/** Phases 3 and 4 from the enrollment profile's bytes: the identity, then Authenticate and TokenUpdate. */
async function finishEnrollment(
  http: HttpClient,
  identity: DeviceIdentity,
  profileBody: Buffer,
  trustAnchorsPem: readonly string[],
  now: () => Date,
  artifacts: Omit<EnrollmentArtifacts, 'scep'>,
  allowPlain: boolean,
): Promise<EnrollmentResult> {
  const { profile, content, signerCertificatePem } = readProfile('enrollment-profile', profileBody, trustAnchorsPem, { allowPlain });
  const problem = profileProblem(profile);
  if (problem) throw new SimulatorEnrollmentError('enrollment-profile', problem);
  const payloads = payloadsOf(profile);
  const mdmPayload = payloads.find((p) => p.PayloadType === 'com.apple.mdm');
  if (!mdmPayload) throw new SimulatorEnrollmentError('enrollment-profile', 'no com.apple.mdm payload');
  const settings = readMdmPayload(mdmPayload);
  const identityPayload = payloads.find((p) => p.PayloadUUID === settings.identityCertificateUuid);
  if (!identityPayload) {
    throw new SimulatorEnrollmentError(
      'enrollment-profile',
      `IdentityCertificateUUID ${settings.identityCertificateUuid} names no payload of the profile`,
    );
  }
  const rootCertificatesPem = payloads
    .filter((p) => p.PayloadType === 'com.apple.security.root' && p.PayloadContent instanceof Uint8Array)
    .map((p) => derToPem(Buffer.from(p.PayloadContent as Uint8Array)));

  // Phase 3: the device identity
  let signer: { privateKey: KeyObject; certificate: X509Certificate };
  let identitySource: MdmEnrollmentState['identitySource'];
  let scepArtifacts: EnrollmentArtifacts['scep'];
  if (identityPayload.PayloadType === 'com.apple.security.scep') {
    const scep = await enrollWithScep(http, identityPayload, identity);
    signer = scep;
    scepArtifacts = scep.artifacts;
    identitySource = 'scep';
  } else if (identityPayload.PayloadType === 'com.apple.security.pkcs12') {
    signer = openPkcs12(identityPayload);
    identitySource = 'pkcs12';
  } else {
    throw new SimulatorEnrollmentError(
      'enrollment-profile',
      `the identity payload is ${String(identityPayload.PayloadType)}, not SCEP or PKCS#12`,
    );
  }

  // Phase 4: check in
  const pushToken = randomBytes(32);
  const unlockToken = randomBytes(48);
  const mdm: MdmEnrollmentState = {
    serverUrl: settings.serverUrl,
    checkInUrl: settings.checkInUrl,
    topic: settings.topic,
    signMessage: settings.signMessage,
    identitySource,
    identityKeyPem: signer.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    identityCertificatePem: signer.certificate.toString(),
    pushToken: pushToken.toString('base64'),
    pushMagic: randomUUID().toUpperCase(),
    unlockToken: unlockToken.toString('base64'),
    enrolledAt: now().toISOString(),
  };
  await checkinOrFail(http, 'authenticate', 'checkin-authenticate', mdm, signer, authenticateMessage(identity, settings.topic));
  await checkinOrFail(http, 'token-update', 'checkin-tokenupdate', mdm, signer, {
    MessageType: 'TokenUpdate',
    UDID: identity.udid,
    Topic: settings.topic,
    Token: pushToken,
    PushMagic: mdm.pushMagic,
    UnlockToken: unlockToken,
  });

  const installed: InstalledProfileState = {
    identifier: profile.PayloadIdentifier as string,
    uuid: profile.PayloadUUID as string,
    contentSha256: createHash('sha256').update(content).digest('hex'),
    source: 'enrollment',
    ...(signerCertificatePem && { signerCertificateDer: new X509Certificate(signerCertificatePem).raw.toString('base64') }),
    installedAt: now().toISOString(),
    payloads: payloads.map((p) => ({
      type: String(p.PayloadType),
      identifier: String(p.PayloadIdentifier),
      ...(typeof p.PayloadUUID === 'string' && { uuid: p.PayloadUUID }),
      ...(typeof p.PayloadDisplayName === 'string' && { displayName: p.PayloadDisplayName }),
    })),
  };
  if (typeof profile.PayloadDisplayName === 'string') installed.displayName = profile.PayloadDisplayName;
  if (typeof profile.PayloadOrganization === 'string') installed.organization = profile.PayloadOrganization;
  return {
    mdm,
    profile: installed,
    rootCertificatesPem,
    artifacts: { ...artifacts, ...(scepArtifacts && { scep: scepArtifacts }) },
  };
}

async function checkinOrFail(
  http: HttpClient,
  stage: EnrollmentStage,
  kind: string,
  mdm: MdmEnrollmentState,
  signer: { privateKey: KeyObject; certificate: X509Certificate },
  message: PlistDict,
): Promise<void> {
  let response: HttpResponse;
  try {
    response = await sendCheckin(http, kind, mdm, signer, message);
  } catch (err) {
    if (err instanceof HttpError) throw new SimulatorEnrollmentError(stage, err.message);
    throw err;
  }
  if (response.status !== 200) {
    throw new SimulatorEnrollmentError(
      stage,
      `${mdm.checkInUrl} answered ${response.status}: ${response.body.toString('utf8').slice(0, 200)}`,
      response.status,
    );
  }
}
