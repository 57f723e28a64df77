// What other capabilities may use of the scep capability (the only module they import).
export { type ScepService } from './service.js';
export { hashChallenge, type IdentityIssuer } from './service.js';
