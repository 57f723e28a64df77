// What other capabilities may use of the device-certificate registry.
export { certificateFingerprint, normalizeFingerprint } from './fingerprints.js';
export {
  CertificateRegistry,
  certificateView,
  ScepUnavailableError,
  scepUnavailableReason,
  type CertificateOwner,
  type CertificatePurpose,
  type CertificateSource,
  type RecordCertificateInput,
} from './service.js';
