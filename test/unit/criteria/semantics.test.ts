import { describe, expect, it } from 'vitest';
import { compileCriteria, parseCriteria, type DeviceFacts } from '../../../src/lib/criteria/index.js';
import { device } from './helpers.js';

const matches = (criteria: string, facts: DeviceFacts = device()) => compileCriteria(criteria)(facts);

describe('string fields', () => {
  const ipad = device({ model: 'iPad Air' });
  it.each([
    ['= "ipad air"', true],
    ['= "IPAD AIR"', true],
    ['= "iPad"', false],
    ['!= "IPAD air"', false],
    ['!= "iPad"', true],
    ['< "IPAD B"', true],
    ['< "ipad air"', false],
    ['<= "IPAD AIR"', true],
    ['<= "ipad"', false],
    ['> "ipad"', true],
    ['> "IPAD AIR"', false],
    ['>= "ipad air"', true],
    ['>= "ipad b"', false],
    ['contains "AD a"', true],
    ['contains "mini"', false],
    ['starts with "IPAD"', true],
    ['starts with "Air"', false],
    ['does not contain "mini"', true],
    ['does not contain "AIR"', false],
    ['is empty', false],
    ['is not empty', true],
  ])('common.model %s → %s', (rest, expected) => {
    expect(matches(`common.model ${rest}`, ipad)).toBe(expected);
  });

  it('reads every string field from its DeviceFacts property', () => {
    const facts = device();
    expect(matches('common.uuid = "a1b2c3d4-0000-4000-8000-000000000007"', facts)).toBe(true);
    expect(matches('common.manufacturer = apple', facts)).toBe(true);
    expect(matches('common.SerialNumber = f9fq1234abcd', facts)).toBe(true);
    expect(matches('common.imei starts with 3569', facts)).toBe(true);
    expect(matches('ios.DeviceName = "alice\'s ipad"', facts)).toBe(true);
    expect(matches('"ios.iPhone UDID" = "00008020-0011223344556677"', facts)).toBe(true);
    expect(matches('user.user_id = ALICE', facts)).toBe(true);
    expect(matches('user.email_address contains "@EXAMPLE.com"', facts)).toBe(true);
    expect(matches('user.display_name = "alice example"', facts)).toBe(true);
  });
});

describe('enum fields', () => {
  it('compare case-insensitively in both directions', () => {
    expect(matches('common.platform = "ios"')).toBe(true);
    expect(matches('common.platform = IOS', device({ platform: 'ios' }))).toBe(true);
    expect(matches('common.platform = Android')).toBe(false);
    expect(matches('common.platform != android')).toBe(true);
    expect(matches('common.platform != iOS', device({ platform: 'IOS' }))).toBe(false);
    expect(matches('common.owner = company')).toBe(true);
    expect(matches('common.owner = EMPLOYEE')).toBe(false);
    expect(matches('common.status = active')).toBe(true);
    expect(matches('common.status != LOST')).toBe(true);
    expect(matches('common.platform is not empty')).toBe(true);
    expect(matches('common.platform is empty', device({ platform: '' }))).toBe(true);
  });
});

describe('version fields', () => {
  it.each([
    ['9.10', '>', '9.9', true],
    ['9.10', '<', '9.9', false],
    ['9.9', '<', '9.10', true],
    ['9.3', '=', '9.3.0', true],
    ['9.3.0', '=', '9.3', true],
    ['9.3', '!=', '9.3.0', false],
    ['9.3.1', '>', '9.3', true],
    ['9.3.1', '>=', '9.3.1', true],
    ['9.3.1', '<=', '9.3', false],
    ['10.0', '>', '9.3.5', true],
    ['17.4.1', '<', '17.10', true],
    ['1.0', '=', '1.0.0.0', true],
    ['2', '>=', '10', false],
  ])('%s %s %s → %s', (deviceVersion, operator, value, expected) => {
    expect(matches(`common.os_version ${operator} "${value}"`, device({ osVersion: deviceVersion }))).toBe(expected);
  });

  it('applies contains / starts with to the version text', () => {
    const facts = device({ osVersion: '17.4.1' });
    expect(matches('common.os_version starts with "17."', facts)).toBe(true);
    expect(matches('common.os_version starts with "7"', facts)).toBe(false);
    expect(matches('common.os_version contains ".4"', facts)).toBe(true);
    expect(matches('common.os_version does not contain "4"', facts)).toBe(false);
    expect(matches('common.os_version does not contain "beta"', facts)).toBe(true);
  });
});

describe('number fields', () => {
  const facts = device({ id: 42 });
  it.each([
    ['= 42', true],
    ['= 42.0', true],
    ['= "4.2e1"', true],
    ['= 41', false],
    ['!= 41', true],
    ['!= 42', false],
    ['< 43', true],
    ['< 42', false],
    ['<= 42', true],
    ['<= 41.5', false],
    ['> 41.5', true],
    ['> 42', false],
    ['>= 42', true],
    ['>= 100', false],
    ['> -1', true],
    ['is not empty', true],
    ['is empty', false],
  ])('common.id %s → %s', (rest, expected) => {
    expect(matches(`common.id ${rest}`, facts)).toBe(expected);
  });

  it('compares numerically, not as text', () => {
    expect(matches('common.id > 9', device({ id: 10 }))).toBe(true);
  });
});

describe('boolean fields', () => {
  it.each([
    ['common.compliant = true', true],
    ['common.compliant = false', false],
    ['common.compliant != false', true],
    ['common.compliant != true', false],
    ['common.quarantined = FALSE', true],
    ['common.quarantined = true', false],
    ['common.compliant is not empty', true],
    ['common.compliant is empty', false],
  ])('%s → %s', (criteria, expected) => {
    expect(matches(criteria)).toBe(expected);
  });

  it('derives common.retired from the status', () => {
    expect(matches('common.retired = true', device({ status: 'RETIRED' }))).toBe(true);
    expect(matches('common.retired = false', device({ status: 'RETIRED' }))).toBe(false);
    expect(matches('common.retired = false', device({ status: 'ACTIVE' }))).toBe(true);
    expect(matches('common.retired != true', device({ status: 'WIPED' }))).toBe(true);
  });
});

describe('date fields', () => {
  const facts = device({ registrationDate: new Date('2024-03-01T10:30:00Z') });
  it.each([
    // A bare day stands for the whole UTC day.
    ['= 2024-03-01', true],
    ['= 2024-03-02', false],
    ['!= 2024-03-01', false],
    ['!= 2024-02-29', true],
    ['< 2024-03-01', false],
    ['< 2024-03-02', true],
    ['<= 2024-03-01', true],
    ['<= 2024-02-29', false],
    ['> 2024-03-01', false],
    ['> 2024-02-29', true],
    ['>= 2024-03-01', true],
    ['>= 2024-03-02', false],
    // A timestamp is an instant.
    ['= 2024-03-01T10:30:00Z', true],
    ['= "2024-03-01T10:30:00.000Z"', true],
    ['= 2024-03-01T10:30:00.001Z', false],
    ['= 2024-03-01T12:30:00+02:00', true],
    ['= 2024-03-01T05:30:00-0500', true],
    ['= "2024-03-01 10:30"', true],
    ['> 2024-03-01T10:29:59Z', true],
    ['> 2024-03-01T10:30:00Z', false],
    ['>= 2024-03-01T10:30:00Z', true],
    ['< 2024-03-01T10:30:00Z', false],
    ['<= 2024-03-01T10:30:00Z', true],
    ['!= 2024-03-01T10:30:00Z', false],
    ['is not empty', true],
  ])('common.registration_date %s → %s', (rest, expected) => {
    expect(matches(`common.registration_date ${rest}`, facts)).toBe(expected);
  });

  it('treats a null or invalid date as missing', () => {
    expect(matches('common.last_connected_at is empty', device({ lastConnectedAt: null }))).toBe(true);
    expect(matches('common.last_connected_at < 2100-01-01', device({ lastConnectedAt: null }))).toBe(false);
    expect(matches('common.last_connected_at != 2100-01-01', device({ lastConnectedAt: null }))).toBe(false);
    expect(matches('common.last_connected_at is empty', device({ lastConnectedAt: new Date('nope') }))).toBe(true);
    expect(matches('common.last_connected_at > 2024-06-15', device())).toBe(false);
    expect(matches('common.last_connected_at >= 2024-06-15', device())).toBe(true);
  });
});

describe('custom device attributes', () => {
  it('read the named attribute, case-insensitive in value', () => {
    expect(matches('custom.device.costCenter = "r&d"')).toBe(true);
    expect(matches('custom.device.site starts with ber', device({ custom: { site: 'Berlin' } }))).toBe(true);
    expect(matches('custom.device.floor is empty')).toBe(true);
    expect(matches('custom.device.floor != 3')).toBe(false);
  });

  it('never read inherited object properties', () => {
    expect(matches('custom.device.constructor is empty')).toBe(true);
    expect(matches('custom.device.__proto__ is empty')).toBe(true);
    expect(matches('custom.device.toString contains "function"')).toBe(false);
  });
});

describe('missing fields satisfy only "is empty"', () => {
  const binaryOperators = ['=', '!=', '<', '<=', '>', '>=', 'contains', 'starts with', 'does not contain'];
  const missingValues: Array<[string, Partial<DeviceFacts>]> = [
    ['null', { model: null }],
    ['empty string', { model: '' }],
    ['undefined', { model: undefined as unknown as null }],
  ];
  for (const [label, overrides] of missingValues) {
    it.each(binaryOperators)(`common.model %s "x" is false when model is ${label}`, (operator) => {
      expect(matches(`common.model ${operator} "x"`, device(overrides))).toBe(false);
    });
    it(`is empty / is not empty when model is ${label}`, () => {
      expect(matches('common.model is empty', device(overrides))).toBe(true);
      expect(matches('common.model is not empty', device(overrides))).toBe(false);
      // NOT inverts the comparison as a whole, so NOT of a false comparison is true.
      expect(matches('NOT common.model = "x"', device(overrides))).toBe(true);
    });
  }

  it.each([
    ['common.os_version >= 1', { osVersion: null }],
    ['common.os_version != 1', { osVersion: '' }],
    ['common.imei does not contain 9', { imei: null }],
    ['user.email_address != x', { email: null }],
    ['common.compliant != true', { compliant: null as unknown as boolean }],
    ['common.id != 1', { id: Number.NaN }],
  ])('%s is false for a missing value', (criteria, overrides) => {
    expect(matches(criteria, device(overrides))).toBe(false);
  });
});

describe('boolean combinations', () => {
  it('evaluates AND, OR, NOT and precedence', () => {
    const facts = device();
    expect(matches('common.platform = iOS AND common.model contains iPad')).toBe(true);
    expect(matches('common.platform = Android AND common.model contains iPad')).toBe(false);
    expect(matches('common.platform = Android OR common.model contains iPad')).toBe(true);
    expect(matches('NOT common.platform = Android')).toBe(true);
    // AND before OR: true OR (false AND false) is true; (true OR false) AND false is false.
    expect(matches('common.id = 7 OR common.id = 8 AND common.id = 9', facts)).toBe(true);
    expect(matches('(common.id = 7 OR common.id = 8) AND common.id = 9', facts)).toBe(false);
    expect(matches('NOT common.id = 7 OR common.id = 7', facts)).toBe(true);
    expect(matches('NOT (common.id = 7 OR common.id = 7)', facts)).toBe(false);
    expect(matches('NOT NOT common.id = 7', facts)).toBe(true);
  });

  it('matches every device for empty criteria', () => {
    expect(matches('')).toBe(true);
    expect(matches('   ', device({ platform: '', model: null }))).toBe(true);
  });

  it('compiles a parsed tree the same as its text', () => {
    const text = 'common.platform = iOS AND (common.os_version >= 9.3 OR common.compliant = false)';
    const fromTree = compileCriteria(parseCriteria(text));
    for (const osVersion of ['9.2', '9.3', '10.1', null]) {
      const facts = device({ osVersion });
      expect(fromTree(facts)).toBe(compileCriteria(text)(facts));
    }
  });
});
