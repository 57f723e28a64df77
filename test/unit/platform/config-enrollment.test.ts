// The enrollment settings: MachineInfo from unknown devices and unsigned InstallProfile are off
// unless a flag or the environment turns them on (the flag wins), as --scep-allow-des.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/platform/config.js';

describe.each([
  ['enrollUnknownDevices', 'MOCKIRON_ENROLL_UNKNOWN_DEVICES'],
  ['installProfileUnsigned', 'MOCKIRON_INSTALL_PROFILE_UNSIGNED'],
] as const)('%s', (setting, variable) => {
  it('is off by default and for values that do not say yes', () => {
    expect(loadConfig({}, {})[setting]).toBe(false);
    for (const value of ['', '0', 'false', 'no', 'off', 'enabled']) expect(loadConfig({}, { [variable]: value })[setting]).toBe(false);
  });

  it(`is on with ${variable}=1/true/yes, or the flag, which wins over the environment`, () => {
    for (const value of ['1', 'true', 'YES']) expect(loadConfig({}, { [variable]: value })[setting]).toBe(true);
    expect(loadConfig({ [setting]: true }, {})[setting]).toBe(true);
    expect(loadConfig({ [setting]: false }, { [variable]: '1' })[setting]).toBe(false);
  });
});
