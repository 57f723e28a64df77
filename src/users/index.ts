// What other capabilities may use of the users capability (the only module they import).
export { type UserDevices } from './service.js';
export { userStore } from './store.js';
