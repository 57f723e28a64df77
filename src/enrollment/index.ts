// What other capabilities may use of the enrollment capability (the only module they import).
export { enrollmentProfileIdentifier } from './service.js';
export { buildPkcs12 } from './pkcs12.js';
