// What other capabilities may use of the inventory capability (the only module they import).
export { type InventoryDevice, type InventoryDevices, type InventoryService } from './service.js';
export { deviceAppStore, type ReportedApp } from './store.js';
