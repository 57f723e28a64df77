import { describe, expect, it } from 'vitest';
import { DEVICE_STATUSES, parseCriteria, searchFields } from '../../../src/lib/criteria/index.js';
import { editDistance, suggestFieldName } from '../../../src/lib/criteria/fields.js';

describe('searchFields', () => {
  it('lists the catalogue: Core field names clients send, each with a type', () => {
    const types = Object.fromEntries(searchFields().map((field) => [field.name, field.type]));
    // A sample across namespaces and kinds of source; the whole list is in src/lib/criteria/fields.ts.
    expect(types).toMatchObject({
      'common.id': 'number',
      'common.uuid': 'string',
      'common.platform': 'enum',
      'common.os_version': 'version',
      'common.SerialNumber': 'string',
      'common.compliant': 'boolean',
      'common.registration_date': 'date',
      'common.ip_address': 'string',
      'common.wifi_mac_address': 'string',
      'common.security_state': 'string',
      'common.device_is_compromised': 'boolean',
      'common.battery_level': 'number',
      'common.storage_capacity': 'number',
      'common.client_version': 'version',
      'common.miclient_last_connected_at': 'date',
      'ios.iPhone UDID': 'string',
      'ios.iPhone VERSION': 'version',
      'ios.DataRoamingEnabled': 'boolean',
      'android.security_patch': 'date',
      'windows_phone.win10_antivirus_status': 'string',
      'user.display_name': 'string',
      'user.sam_account_name': 'string',
    });
    expect(Object.keys(types).length).toBeGreaterThanOrEqual(90);
  });

  it('says what fills each field, and only fields with a column sort', () => {
    const fields = new Map(searchFields().map((f) => [f.name, f]));
    expect(fields.get('common.battery_level')).toMatchObject({ filledBy: 'DeviceInformation', sortable: false });
    expect(fields.get('common.battery_level')!.source).toContain('BatteryLevel');
    expect(fields.get('common.data_protection_enabled')).toMatchObject({ filledBy: 'SecurityInfo' });
    expect(fields.get('common.imsi')).toMatchObject({ filledBy: 'not reported', sortable: false });
    expect(fields.get('common.os_version')).toMatchObject({ sortable: true });
    expect(fields.get('user.display_name')).toMatchObject({ filledBy: 'registration', sortable: true });
    for (const field of fields.values()) expect(field.source.length).toBeGreaterThan(0);
  });

  it('gives enum values and descriptions, and only enums have values', () => {
    const fields = searchFields();
    expect(fields.find((f) => f.name === 'common.platform')?.values).toEqual(['iOS', 'Android']);
    expect(fields.find((f) => f.name === 'common.owner')?.values).toEqual(['COMPANY', 'EMPLOYEE']);
    expect(fields.find((f) => f.name === 'common.status')?.values).toEqual([...DEVICE_STATUSES]);
    expect(DEVICE_STATUSES).toEqual(['VERIFICATION_PENDING', 'ACTIVE', 'RETIRED', 'WIPED', 'LOST', 'BLOCKED']);
    for (const field of fields) {
      expect(field.description.length).toBeGreaterThan(0);
      expect('values' in field).toBe(field.type === 'enum');
    }
  });

  it('adds known custom attributes, sorted, skipping invalid names and duplicates', () => {
    const custom = searchFields({ customAttributeNames: ['site', 'costCenter', 'site', 'bad name'] }).filter((f) =>
      f.name.startsWith('custom.'),
    );
    expect(custom.map((f) => f.name)).toEqual(['custom.device.costCenter', 'custom.device.site']);
    expect(custom.every((f) => f.type === 'string')).toBe(true);
  });

  it('returns copies callers cannot use to corrupt the registry', () => {
    searchFields()
      .find((f) => f.name === 'common.platform')!
      .values!.push('Windows');
    expect(() => parseCriteria('common.platform = Windows')).toThrow('expected one of iOS, Android (column');
  });

  it('lists only names the parser accepts', () => {
    for (const field of searchFields({ customAttributeNames: ['x'] })) {
      expect(() => parseCriteria(`"${field.name}" is empty`)).not.toThrow();
    }
  });
});

describe('field suggestions', () => {
  it('counts a swap of neighbours as one edit', () => {
    expect(editDistance('modle', 'model')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it.each([
    ['common.platfrom', 'common.platform'],
    ['COMMON.OSVERSION', 'common.os_version'],
    ['os_version', 'common.os_version'],
    ['serial_number', 'common.SerialNumber'],
    ['user.email', 'user.email_address'],
    ['serial', 'common.SerialNumber'],
    ['ios.devicename2', 'ios.DeviceName'],
  ])('suggests %s → %s', (input, expected) => {
    expect(suggestFieldName(input)).toBe(expected);
  });

  it.each(['a', 'foo', 'completely.unrelated'])('suggests nothing for %s', (input) => {
    expect(suggestFieldName(input)).toBeUndefined();
  });
});
