// What other capabilities may use of the devices capability (the only module they import).
export { compileOrThrow, type Predicate } from './criteria.js';
export { type DeviceDirectory, type DeviceEntry } from './directory.js';
export { deviceFacts, deviceFields, fieldsOf, type DeviceRow } from './fields.js';
export { type DeviceLabels } from './service.js';
export { deviceStore, type ReportedFacts } from './store.js';
