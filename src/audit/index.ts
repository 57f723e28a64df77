// What other capabilities may use of the audit capability (the only module they import).
export { type AuditEntry, recordAudit } from './store.js';
