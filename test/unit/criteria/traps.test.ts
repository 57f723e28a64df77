// Two criteria traps QA scripts fell into (issue #20), never again a silent empty match:
// - single quotes: every Core criteria example the design notes collected
//   (/work/shared/design/mobileiron-core-api.md §3.2, from Ivanti's search documentation and public
//   client scripts) quotes strings with double quotes, and none uses single quotes, so `'iPhone'`
//   is refused with an error that says to use double quotes rather than read as a bare word;
// - custom attribute names: `custom.device.costcenter` reads `costCenter` (case-insensitive
//   match), unless two attributes differ only in case, which then is no match rather than a guess.
// test/api/criteria-traps.test.ts checks both through the REST API.
import { describe, expect, it } from 'vitest';
import { compileCriteria, CriteriaError } from '../../../src/lib/criteria/index.js';
import { readCustomAttribute } from '../../../src/lib/criteria/compile.js';
import { device } from './helpers.js';

function errorOf(criteria: string): CriteriaError {
  try {
    compileCriteria(criteria);
  } catch (err) {
    if (err instanceof CriteriaError) return err;
    throw err;
  }
  throw new Error(`expected ${criteria} to be refused`);
}

describe('single-quoted values', () => {
  it.each([
    [`common.model contains 'iPhone'`, `'iPhone'`, '"iPhone"', 23],
    [`common.model = 'iPad Air'`, `'iPad Air'`, '"iPad Air"', 16],
    [`common.status = 'ACTIVE' AND common.platform = "iOS"`, `'ACTIVE'`, '"ACTIVE"', 17],
    [`custom.device.site starts with 'Ber`, `'Ber`, '"Ber"', 32],
  ])('%s is refused, naming the quotes and the fix', (criteria, quoted, fix, column) => {
    const err = errorOf(criteria);
    expect(err.messageKey).toBe('criteria.bad_value');
    expect(err.message).toContain(`Single quotes are not string quotes in criteria: ${quoted}`);
    expect(err.message).toContain(`use double quotes: ${fix}`);
    expect(err.column).toBe(column);
  });

  it('double quotes, an apostrophe inside a word, and a quoted single quote still work', () => {
    expect(compileCriteria('common.model contains "iPhone"')(device({ model: 'iPhone8,1' }))).toBe(true);
    expect(compileCriteria(`ios.DeviceName contains Alice's`)(device())).toBe(true);
    expect(compileCriteria(`ios.DeviceName starts with "'"`)(device({ deviceName: "'quoted'" }))).toBe(true);
  });
});

describe('custom attribute names in another case', () => {
  it('custom.device.costcenter reads costCenter', () => {
    const facts = device({ custom: { costCenter: 'R&D' } });
    expect(compileCriteria('custom.device.costcenter = "r&d"')(facts)).toBe(true);
    expect(compileCriteria('custom.device.COSTCENTER is not empty')(facts)).toBe(true);
    expect(compileCriteria('custom.device.costcenter is empty')(facts)).toBe(false);
  });

  it('the exact name wins; two names differing only in case make no guess', () => {
    expect(readCustomAttribute({ costCenter: 'a', costcenter: 'b' }, 'costcenter')).toBe('b');
    expect(readCustomAttribute({ costCenter: 'a', costcenter: 'b' }, 'COSTCENTER')).toBeUndefined();
    expect(readCustomAttribute({ site: 'x' }, 'constructor')).toBeUndefined();
    expect(compileCriteria('custom.device.Constructor is empty')(device())).toBe(true);
  });
});
