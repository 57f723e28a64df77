import { describe, expect, it } from 'vitest';
import { compareVersions } from '../../src/lib/versions/compare.js';

describe('compareVersions', () => {
  it.each([
    ['9.10', '9.9', 1],
    ['9.3', '9.3.0', 0],
    ['9.3.1', '9.3', 1],
    ['10', '9.3.1', 1],
    ['1.0', '1.0.0.0', 0],
    ['17.4.1', '17.10', -1],
  ])('%s vs %s', (a, b, sign) => {
    expect(Math.sign(compareVersions(a, b))).toBe(sign);
    expect(Math.sign(compareVersions(b, a))).toBe(-sign || 0);
  });
});
