// SCEP (RFC 8894) message layer: server side (server.ts) and requester side (client.ts).
export * from './constants.js';
export { ScepMessageError, type RecoveredRequestFields } from './errors.js';
export { buildCsr, parseCsr, CsrError, type BuildCsrOptions, type CsrExtension, type ParsedCsr } from './csr.js';
export type { NameAttribute, ReadName, SubjectFields } from '../pki/names.js';
export type { KeyEncryption } from '../pki/enveloped-data.js';
export type { ScepSigner } from './signed-data.js';
export {
  buildCertRep,
  caCaps,
  caCertResponse,
  DEFAULT_CONTENT_ENCRYPTIONS,
  parsePkiMessage,
  type BuildCertRepOptions,
  type CaCapsOptions,
  type CertificateRequestMessage,
  type CertPollMessage,
  type ParsePkiMessageOptions,
  type ScepHttpBody,
  type ScepRequest,
} from './server.js';
export {
  buildPkcsReq,
  parseCertRep,
  selfSignedCertificate,
  type BuildPkiRequestOptions,
  type BuiltPkiRequest,
  type CertRep,
  type ParseCertRepOptions,
} from './client.js';
export { scepRaCertificate } from './ra-certificate.js';
