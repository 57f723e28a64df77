// The device field catalogue as criteria, projection and sorting read it: the query forms Core
// clients send, values read from what devices report, and the version sort key.
import { describe, expect, it } from 'vitest';
import {
  builtInFields,
  compileCriteria,
  fieldReader,
  lookupField,
  parseCriteria,
  suggestFieldName,
} from '../../../src/lib/criteria/index.js';
import { project, resolveProjection, versionSortKey } from '../../../src/devices/fields.js';
import { compareVersions } from '../../../src/lib/versions/compare.js';
import { device } from './helpers.js';

const read = (name: string, facts = device()) => {
  const lookup = lookupField(name);
  if (lookup.kind !== 'builtin') throw new Error(`${name} is not a catalogue field`);
  return fieldReader(lookup.definition).read(facts);
};

describe('field names as clients write them', () => {
  it('resolves a bare name when exactly one field has it, case-insensitively', () => {
    expect(lookupField('SerialNumber')).toMatchObject({ kind: 'builtin', definition: { name: 'common.SerialNumber' } });
    expect(lookupField('retired')).toMatchObject({ kind: 'builtin', definition: { name: 'common.retired' } });
    expect(lookupField('IP_ADDRESS')).toMatchObject({ kind: 'builtin', definition: { name: 'common.ip_address' } });
    // common.model and ios.Model share the local name: ambiguous, so unknown
    expect(lookupField('model').kind).toBe('unknown');
  });

  it("accepts the spellings Core's portal writes without the space", () => {
    expect(lookupField('ios.iPhoneVERSION')).toMatchObject({ kind: 'builtin', definition: { name: 'ios.iPhone VERSION' } });
    expect(lookupField('ios.iPhoneMAC_ADDRESS_EN0')).toMatchObject({ kind: 'builtin', definition: { name: 'ios.iPhone MAC_ADDRESS_EN0' } });
  });

  it('never resolves prototype keys', () => {
    for (const name of ['__proto__', 'constructor', 'prototype', 'toString', 'common.__proto__'])
      expect(lookupField(name).kind).toBe('unknown');
  });

  it("suggests a field for the Axonius adapter's misspelt names", () => {
    expect(suggestFieldName('ios.DeviceNamem')).toBe('ios.DeviceName');
    expect(suggestFieldName('common.device_admin_enabledwindows_phone.win10_antivirus_status')).toBe('common.device_admin_enabled');
  });

  it('every catalogue name parses in criteria, quoted', () => {
    for (const field of builtInFields()) expect(() => parseCriteria(`"${field.name}" is empty`)).not.toThrow();
  });
});

describe('query forms seen in Core clients', () => {
  const ipad = device();
  const matches = (criteria: string, facts = ipad) => compileCriteria(criteria, { freeText: true })(facts);

  it('quoted field names, no spaces around =', () => {
    expect(matches('"common.status"="ACTIVE" AND "common.compliant" = false')).toBe(false);
    expect(matches('"common.status"="ACTIVE" AND "common.compliant" = true')).toBe(true);
  });

  it('a quoted operator and a bare value: common.ip_address "contains" 10.0.0.1', () => {
    expect(matches('common.ip_address "contains" 10.0.0.1')).toBe(true);
    expect(matches('common.ip_address "contains" 10.0.0.2')).toBe(false);
  });

  it('a quoted, capitalised boolean: "common.compliant"="True"', () => {
    expect(matches('"common.compliant"="True"')).toBe(true);
    expect(matches('"common.compliant"="True"', device({ compliant: false }))).toBe(false);
  });

  it('names without a namespace: "SerialNumber"="…" and retired=false', () => {
    expect(matches('"SerialNumber"="F9FQ1234ABCD"')).toBe(true);
    expect(matches('"SerialNumber"="OTHER"')).toBe(false);
    expect(matches('retired=false')).toBe(true);
    expect(matches('retired=false', device({ status: 'RETIRED' }))).toBe(false);
  });

  it("XSOAR's fetch query over security_state", () => {
    const query = 'common.status = "ACTIVE" AND (common.quarantined = true OR common.compliant = false OR common.security_state != "Ok")';
    expect(matches(query)).toBe(false);
    expect(matches(query, device({ quarantined: true }))).toBe(true);
  });

  it('free text matches a word anywhere in model, name, serial, user...; only where asked for', () => {
    expect(matches('ipad')).toBe(true);
    expect(matches('alice')).toBe(true);
    expect(matches('"Alice Example"')).toBe(true);
    expect(matches('samsung')).toBe(false);
    expect(matches('samsung', device({ manufacturer: 'samsung', model: 'SM-G991B' }))).toBe(true);
    // Filter-label criteria keep the strict grammar: a lone word is an error there
    expect(() => compileCriteria('samsung')).toThrow(/Unknown field "samsung"/);
  });
});

describe('values read from what a device reported', () => {
  it('reads DeviceInformation and SecurityInfo answers, typed', () => {
    expect(read('common.battery_level')).toBe(87);
    expect(read('common.supervised')).toBe(true);
    expect(read('common.storage_capacity')).toBe(64);
    expect(read('common.storage_free')).toBe(20.5);
    expect(read('ios.Current MCC')).toBe('262');
    expect(read('common.device_encrypted')).toBe(true);
    expect(read('common.data_protection_enabled')).toBe(true);
  });

  it('answers null for what nothing reported, and for a value of the wrong type', () => {
    const silent = device({ info: {}, security: {} });
    expect(read('common.battery_level', silent)).toBeNull();
    expect(read('common.supervised', silent)).toBeNull();
    expect(read('common.data_protection_enabled', silent)).toBeNull();
    expect(read('common.battery_level', device({ info: { BatteryLevel: 'full' } }))).toBeNull();
    expect(read('common.imsi')).toBeNull();
    expect(read('android.security_patch')).toBeNull();
  });

  it('derives security state, platform name, reasons and dates as Core answers them', () => {
    expect(read('common.security_state')).toBe('Ok');
    expect(read('common.platform_name')).toBe('iOS 9.3.1');
    expect(read('common.noncompliance_reasons')).toEqual([]);
    expect(read('common.noncompliance_reasons', device({ compliant: false }))).toEqual(['MANUAL']);
    expect(read('common.quarantined_reasons', device({ quarantined: true }))).toEqual(['MANUAL']);
    expect(read('common.registration_date')).toBe('2024-03-01T10:30:00.000Z');
    expect(read('common.mdm_managed')).toBe(true);
    expect(read('common.mdm_managed', device({ status: 'RETIRED' }))).toBe(false);
  });

  it('criteria compare the value the projection shows', () => {
    const facts = device();
    expect(compileCriteria('common.battery_level > 80')(facts)).toBe(true);
    expect(compileCriteria('common.battery_level > 90')(facts)).toBe(false);
    expect(compileCriteria('common.noncompliance_reasons is empty')(facts)).toBe(true);
    expect(compileCriteria('"common.imsi" is empty')(facts)).toBe(true);
  });
});

describe('fields= projection', () => {
  it('trims names, answers duplicates once, keeps the spelling asked for, and null for unknown values', () => {
    const projection = resolveProjection([
      '\ncommon.uuid',
      'common.storage_capacity',
      ' common.storage_capacity ',
      'COMMON.MODEL',
      'ios.iPhone UDID\n',
    ]);
    expect(projection.unknown).toEqual([]);
    const row = project(projection, device({ info: {} }));
    expect(Object.keys(row)).toEqual(['common.uuid', 'common.storage_capacity', 'COMMON.MODEL', 'ios.iPhone UDID']);
    expect(row['common.storage_capacity']).toBeNull();
    expect(row['COMMON.MODEL']).toBe('iPad4,1');
  });

  it('reports unknown names with a suggestion, and prototype keys as unknown', () => {
    const projection = resolveProjection([
      'common.uuid',
      'ios.DeviceNamem',
      '__proto__',
      'custom.device.site',
      'custom.device.constructor',
    ]);
    expect(projection.unknown).toEqual([
      { name: 'ios.DeviceNamem', suggestion: 'ios.DeviceName' },
      { name: '__proto__', suggestion: undefined },
      { name: 'custom.device.constructor', suggestion: undefined },
    ]);
    const row = project(projection, device());
    expect(row['custom.device.site']).toBe('Berlin');
    expect(Object.getPrototypeOf(row)).toBeNull();
  });
});

describe('version sort key', () => {
  it("orders the issue's versions as versions, as text comparison of the keys", () => {
    const versions = ['17.0.3', '9.10', '9.3.1', '9.9', '10.0', '9.3', '16.7.10', '16.7.9'];
    const byKey = [...versions].sort((a, b) => (versionSortKey(a)! < versionSortKey(b)! ? -1 : 1));
    expect(byKey).toEqual(['9.3', '9.3.1', '9.9', '9.10', '10.0', '16.7.9', '16.7.10', '17.0.3']);
    expect(byKey).toEqual([...versions].sort(compareVersions));
  });

  it('has no key for no version, and bounds odd input', () => {
    expect(versionSortKey(null)).toBeNull();
    expect(versionSortKey('')).toBeNull();
    expect(versionSortKey('17.0 beta')! < versionSortKey('17.0.1')!).toBe(false);
    expect(versionSortKey('1.'.repeat(500))!.length).toBeLessThan(200);
  });
});
