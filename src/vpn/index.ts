// What other capabilities may use of the vpn capability (the only module they import).
export { type VpnRow, vpnSpec } from './service.js';
export { vpnStore } from './store.js';
