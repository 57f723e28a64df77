// What other capabilities may use of the device-spaces capability (the only module they import).
export { globalSpace, type DeviceSpaceService, type SpaceDevices } from './service.js';
