// The CSV import's hand-written row rules (src/devices/bulk-rows.ts) against the zod body of
// POST /api/v2/devices (src/devices/routes.ts), the rules they were written from: for every
// combination drawn, both accept or both refuse, the refused field is one zod names, and an
// accepted row carries the values zod's parse gives. Seeded, so a failure reproduces.
import { describe, expect, it } from 'vitest';
import { checkCsvHeader, checkCsvRow, csvColumns } from '../../../src/devices/bulk-rows.js';
import { deviceBody } from '../../../src/devices/routes.js';

const samples: Record<(typeof csvColumns)[number], string[]> = {
  userId: ['', 'jdoe', 'x'.repeat(128), 'x'.repeat(129), 'Ünïcode user'],
  platform: ['', 'iOS', 'I', 'A', 'android', 'ANDROID', 'IOS', 'Windows', 'ios ', 'iPadOS'],
  ownership: ['', 'company', 'EMPLOYEE', 'Employee', 'BYOD'],
  serialNumber: ['', 'C02XK1ABJGH5', 'abc-123', 'has space', 'x'.repeat(64), 'x'.repeat(65), 'ser_1'],
  udid: ['', '00008030-001A2B3C4D5E6F70', 'f'.repeat(40), 'f'.repeat(23), 'g'.repeat(40), 'F'.repeat(64), 'f'.repeat(65)],
  imei: ['', '356938035643809', '35 693803 564380 9', '3569380356438', '35693803564380912345', '35693803564380a'],
  model: ['', 'iPad13,1', 'm'.repeat(64), 'm'.repeat(65), 'bell\u0007'],
  osVersion: ['', '17.1', '9.3.1', '1.2.3.4', '1.2.3.4.5', '17', 'v17', '12345.1'],
  deviceName: ['', 'Fleet iPad 1', 'n'.repeat(128), 'n'.repeat(129), 'tab\tinside', 'nul\u0000', '📱 phone'],
  labels: ['', 'fleet', 'fleet;field', ' a ; ; b '],
};

function random(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

describe('CSV row rules', () => {
  it('accept and refuse what the POST /devices body accepts and refuses, with the same values', () => {
    const rnd = random(19);
    const columns = checkCsvHeader([...csvColumns]);
    let accepted = 0;
    for (let round = 0; round < 4000; round++) {
      const fields = csvColumns.map((c) => samples[c][rnd(samples[c].length)]!);
      const mine = checkCsvRow(columns, fields, 7);
      const v = Object.fromEntries(csvColumns.map((c, i) => [c, fields[i]!.trim()]).filter(([, value]) => value !== ''));
      const body = Object.fromEntries(
        Object.entries({
          platform: v.platform,
          userId: v.userId,
          owner: v.ownership?.toUpperCase(),
          serialNumber: v.serialNumber,
          udid: v.udid,
          imei: v.imei,
          model: v.model,
          osVersion: v.osVersion,
          deviceName: v.deviceName,
        }).filter(([, value]) => value !== undefined),
      );
      const zod = deviceBody.safeParse(body);
      const label = JSON.stringify(fields);
      expect(mine.ok, label).toBe(zod.success);
      if (!mine.ok && !zod.success) {
        const named = zod.error.issues.map((i) => (i.path[0] === 'owner' ? 'ownership' : String(i.path[0])));
        expect(named, label).toContain(mine.field);
      }
      if (mine.ok && zod.success) {
        accepted++;
        const { line, labels, owner, ...rest } = mine.value;
        expect(line).toBe(7);
        expect({ ...rest, ...(owner ? { owner } : {}) }, label).toEqual(zod.data);
        expect(labels).toEqual(
          (v.labels ?? '')
            .split(';')
            .map((l: string) => l.trim())
            .filter(Boolean),
        );
      }
    }
    expect(accepted).toBeGreaterThan(20);
  });

  it('reads the columns in the header order, any subset of them', () => {
    const columns = checkCsvHeader(['serialNumber', 'platform']);
    expect(checkCsvRow(columns, ['SER1', 'A'], 2)).toEqual({
      ok: true,
      value: { line: 2, platform: 'Android', serialNumber: 'SER1', labels: [] },
    });
    expect(checkCsvRow(columns, ['SER1'], 3)).toMatchObject({ ok: false, field: 'row' });
    expect(() => checkCsvHeader(['platform', 'colour'])).toThrow(/Unknown CSV column\(s\): colour/);
  });
});
