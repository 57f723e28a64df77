// What other capabilities may use of the policy capability (the only module they import).
export { type PolicyService, type ResolvedPolicy } from './service.js';
