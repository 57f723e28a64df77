import type { DeviceFacts } from '../../../src/lib/criteria/index.js';

/** A fully populated iPad; override what a test is about. */
export function device(overrides: Partial<DeviceFacts> = {}): DeviceFacts {
  return {
    id: 7,
    adminDeviceSpaceId: 1,
    uuid: 'A1B2C3D4-0000-4000-8000-000000000007',
    platform: 'iOS',
    osVersion: '9.3.1',
    model: 'iPad4,1',
    manufacturer: 'Apple',
    serialNumber: 'F9FQ1234ABCD',
    imei: '356938035643809',
    owner: 'COMPANY',
    status: 'ACTIVE',
    compliant: true,
    quarantined: false,
    registrationDate: new Date('2024-03-01T10:30:00Z'),
    lastConnectedAt: new Date('2024-06-15T08:00:00Z'),
    deviceName: "Alice's iPad",
    udid: '00008020-0011223344556677',
    userId: 'alice',
    email: 'alice@example.com',
    displayName: 'Alice Example',
    custom: { costCenter: 'R&D', site: 'Berlin' },
    wifiMac: 'a4:83:e7:12:34:56',
    ipAddress: '10.0.0.17',
    phoneNumber: '+49 30 1234567',
    mdmEnrolled: true,
    info: { BatteryLevel: 0.87, IsSupervised: true, DeviceCapacity: 64, AvailableDeviceCapacity: 20.5, CurrentMCC: '262' },
    security: { HardwareEncryptionCaps: 3, PasscodePresent: true },
    ...overrides,
  };
}
