// What other capabilities may use of the devices capability (the only module they import).
export { type DeviceRow } from './fields.js';
export { deviceStore, type ReportedFacts } from './store.js';
