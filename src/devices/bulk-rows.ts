// The CSV bulk import's columns and row rules. The rules are those of POST /api/v2/devices (the
// zod body in routes.ts), written out by hand: zod cost about 19 µs a row here, more than the
// database's insert; test/unit/devices/bulk-rows.test.ts checks that both accept and refuse the
// same values.
import { DomainError } from '../platform/errors/index.js';

export const csvColumns = [
  'userId',
  'platform',
  'ownership',
  'serialNumber',
  'udid',
  'imei',
  'model',
  'osVersion',
  'deviceName',
  'labels',
] as const;
export type CsvColumn = (typeof csvColumns)[number];

/** A valid row, as the import keeps it until it is written. */
export interface CsvDevice {
  line: number;
  platform: 'iOS' | 'Android';
  userId?: string;
  owner?: 'COMPANY' | 'EMPLOYEE';
  serialNumber?: string;
  udid?: string;
  imei?: string;
  model?: string;
  osVersion?: string;
  deviceName?: string;
  labels: string[];
}

export type RowCheck = { ok: true; value: CsvDevice } | { ok: false; field: string; message: string };

/** The column names of a header row, checked; throws a DomainError to refuse it. */
export function checkCsvHeader(names: string[]): CsvColumn[] {
  const allowed = new Set<string>(csvColumns);
  const unknown = names.filter((c) => !allowed.has(c));
  if (unknown.length)
    throw new DomainError(
      'device.csv',
      `Unknown CSV column(s): ${unknown.map((c) => c.slice(0, 64)).join(', ')}; expected ${csvColumns.join(',')}`,
    );
  const repeated = names.filter((c, i) => names.indexOf(c) !== i);
  if (repeated.length) throw new DomainError('device.csv', `CSV column(s) named twice: ${[...new Set(repeated)].join(', ')}`);
  return names as CsvColumn[];
}

const controlChars = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
const osVersionRe = /^\d{1,4}(\.\d{1,4}){0,3}$/;
const serialRe = /^[A-Za-z0-9-]{1,64}$/;
const udidRe = /^[0-9A-Fa-f-]{24,64}$/;
const imeiRe = /^[0-9 ]{14,19}$/;
const platforms: Record<string, 'iOS' | 'Android'> = {
  iOS: 'iOS',
  I: 'iOS',
  ios: 'iOS',
  IOS: 'iOS',
  Android: 'Android',
  A: 'Android',
  android: 'Android',
  ANDROID: 'Android',
};

function freeText(value: string, max: number): string | undefined {
  if (value.length > max) return `must be at most ${max} characters`;
  if (controlChars.test(value)) return 'must not contain control characters';
  return undefined;
}

/**
 * Checks one record (its fields in `columns` order) and returns the device it describes, or the
 * first field that is wrong, in the order of `csvColumns`. Empty values are absent values.
 */
export function checkCsvRow(columns: readonly CsvColumn[], fields: readonly string[], line: number): RowCheck {
  if (fields.length !== columns.length)
    return { ok: false, field: 'row', message: `has ${fields.length} field(s); the header has ${columns.length}` };
  // The values in csvColumns order, absent ones undefined: an array of fixed length rather than
  // an object whose keys vary by row (a row's check runs a million times in a large import).
  const positions = positionsOf(columns);
  const v: Array<string | undefined> = [
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
  ];
  for (let i = 0; i < columns.length; i++) {
    const value = fields[i]!.trim();
    if (value !== '') v[positions[i]!] = value;
  }
  const [userId, platformName, ownership, serialNumber, udid, imei, model, osVersion, deviceName, labelList] = v;
  if (userId !== undefined && userId.length > 128) return { ok: false, field: 'userId', message: 'must be at most 128 characters' };
  const platform = platformName === undefined ? undefined : platforms[platformName];
  if (!platform) return { ok: false, field: 'platform', message: 'must be iOS or Android (also I, A, ios, android, IOS, ANDROID)' };
  let owner: CsvDevice['owner'];
  if (ownership !== undefined) {
    const upper = ownership.toUpperCase();
    if (upper !== 'COMPANY' && upper !== 'EMPLOYEE') return { ok: false, field: 'ownership', message: 'must be COMPANY or EMPLOYEE' };
    owner = upper;
  }
  if (serialNumber !== undefined && !serialRe.test(serialNumber))
    return { ok: false, field: 'serialNumber', message: 'letters, digits and - only (max 64)' };
  if (udid !== undefined && !udidRe.test(udid)) return { ok: false, field: 'udid', message: 'must be a device UDID (hex digits and -)' };
  if (imei !== undefined && !imeiRe.test(imei)) return { ok: false, field: 'imei', message: 'must be 14 to 17 digits' };
  if (model !== undefined) {
    const problem = freeText(model, 64);
    if (problem) return { ok: false, field: 'model', message: problem };
  }
  if (osVersion !== undefined && !osVersionRe.test(osVersion))
    return { ok: false, field: 'osVersion', message: 'must be a version such as 9.3.1' };
  if (deviceName !== undefined) {
    const problem = freeText(deviceName, 128);
    if (problem) return { ok: false, field: 'deviceName', message: problem };
  }
  const labels: string[] = [];
  if (labelList !== undefined) {
    for (const name of labelList.split(';')) {
      const label = name.trim();
      if (label === '') continue;
      if (label.length > 128) return { ok: false, field: 'labels', message: 'a label name is at most 128 characters' };
      labels.push(label);
    }
    if (labels.length > 100) return { ok: false, field: 'labels', message: 'at most 100 labels a row' };
  }
  // Every key set (absent ones undefined): one object shape for every row.
  return { ok: true, value: { line, platform, userId, owner, serialNumber, udid, imei, model, osVersion, deviceName, labels } };
}

/** Each header's columns as indexes into csvColumns, worked out once per header. */
const positionsByHeader = new WeakMap<readonly CsvColumn[], number[]>();
function positionsOf(columns: readonly CsvColumn[]): number[] {
  let positions = positionsByHeader.get(columns);
  if (!positions) positionsByHeader.set(columns, (positions = columns.map((c) => csvColumns.indexOf(c))));
  return positions;
}
