// The SCEP single-DES setting: off unless the flag or the environment turns it on.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/platform/config.js';

describe('scepAllowDes', () => {
  it('is off by default and for values that do not say yes', () => {
    expect(loadConfig({}, {}).scepAllowDes).toBe(false);
    for (const value of ['', '0', 'false', 'no', 'off', 'des']) {
      expect(loadConfig({}, { MOCKIRON_SCEP_ALLOW_DES: value }).scepAllowDes).toBe(false);
    }
  });

  it('is on with MOCKIRON_SCEP_ALLOW_DES=1/true/yes (any case) or the --scep-allow-des flag, which wins over the environment', () => {
    for (const value of ['1', 'true', 'TRUE', 'yes', 'Yes']) {
      expect(loadConfig({}, { MOCKIRON_SCEP_ALLOW_DES: value }).scepAllowDes).toBe(true);
    }
    expect(loadConfig({ scepAllowDes: true }, {}).scepAllowDes).toBe(true);
    expect(loadConfig({ scepAllowDes: false }, { MOCKIRON_SCEP_ALLOW_DES: '1' }).scepAllowDes).toBe(false);
  });
});
