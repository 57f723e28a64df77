// A counter of committed writes to the tables a device's policy is computed from. Caches of
// derived data (the device directory, per-device profiles) remember the value they were built
// at and are valid while it has not moved.
export const policyTables = new Set(['Device', 'User', 'Label', 'DeviceLabel', 'VpnConfiguration', 'VpnConfigurationLabel', 'App', 'AppLabel']);

export class ChangeCounter {
  private n = 0;
  get value(): number {
    return this.n;
  }
  bump(): void {
    this.n++;
  }
}
