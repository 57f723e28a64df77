// Counters of committed writes to the tables a device's policy is computed from. Caches of
// derived data remember the count they were built at and are valid while it has not moved.
//
// - `value` moves on any policy-table write: the device directory and per-device profile caches
//   key on it.
// - `shared` moves only on writes that can change many devices' policies at once (labels, VPN
//   configurations, apps and their assignments). A write to one device row, to one device's
//   manual labels, or to a user (whose devices the users service names), concerns those devices
//   only: MDM reconciliation handles them per device instead of re-reconciling the whole fleet,
//   which during a mass enrollment (a user created per device) would be quadratic.
export const sharedPolicyTables = new Set(['Label', 'VpnConfiguration', 'VpnConfigurationLabel', 'App', 'AppLabel']);
export const devicePolicyTables = new Set(['Device', 'DeviceLabel', 'User']);
export const policyTables = new Set([...sharedPolicyTables, ...devicePolicyTables]);

export class ChangeCounter {
  private n = 0;
  private s = 0;
  get value(): number {
    return this.n;
  }
  get shared(): number {
    return this.s;
  }
  bump(): void {
    this.n++;
  }
  bumpShared(): void {
    this.s++;
    this.n++;
  }
}
