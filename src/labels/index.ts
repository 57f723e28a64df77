// What other capabilities may use of the labels capability (the only module they import).
export { type LabelService } from './service.js';
export { labelStore } from './store.js';
export { labelPredicate } from './membership.js';
