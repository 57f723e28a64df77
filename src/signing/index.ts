// What other capabilities may use of the signing capability (the only module they import).
export { type CertificateAuthority, type SubjectName } from './identity.js';
export { SigningService } from './service.js';
export { signingIdentityFor } from './cli-actions.js';
export { resolveSigningTime } from './signing-time.js';
export { readPkcs12 } from './identity-store.js';
