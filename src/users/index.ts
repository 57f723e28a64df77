// What other capabilities may use of the users capability (the only module they import).
export { userStore } from './store.js';
