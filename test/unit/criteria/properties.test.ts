// Property-based tests: formatting round-trips, and the compiled predicate agrees with a
// deliberately naive reference evaluator written straight from the language description.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  OPERATORS_BY_TYPE,
  compileCriteria,
  formatCriteria,
  parseCriteria,
  searchFields,
  type ComparisonNode,
  type CriteriaNode,
  type DeviceFacts,
  type FieldType,
  type Operator,
} from '../../../src/lib/criteria/index.js';
import { compareVersions } from '../../../src/lib/versions/compare.js';

// Small shared pools so generated comparisons and generated devices actually meet.
const TEXT_POOL = ['iPad', 'ipad air', 'IPAD AIR', 'iPhone', 'Pixel 8', 'a"b', 'back\\slash', 'Ünïcode', 'x y', 'AND'];
const VERSION_POOL = ['9', '9.3', '9.3.0', '9.3.1', '9.10', '10.0', '17.4.1'];
const DATE_POOL = ['2024-03-01', '2024-03-01T10:30:00.000Z', '2024-03-02T00:00:00.000Z', '2023-12-31'];

// The fields the reference evaluator reads (the catalogue's others are the same source kinds).
const READERS: Record<string, (d: DeviceFacts) => unknown> = {
  'common.id': (d) => d.id,
  'common.uuid': (d) => d.uuid,
  'common.platform': (d) => d.platform,
  'common.os_version': (d) => d.osVersion,
  'common.model': (d) => d.model,
  'common.manufacturer': (d) => d.manufacturer,
  'common.SerialNumber': (d) => d.serialNumber,
  'common.imei': (d) => d.imei,
  'common.owner': (d) => d.owner,
  'common.status': (d) => d.status,
  'common.compliant': (d) => d.compliant,
  'common.quarantined': (d) => d.quarantined,
  'common.retired': (d) => d.status === 'RETIRED',
  'common.registration_date': (d) => d.registrationDate,
  'common.last_connected_at': (d) => d.lastConnectedAt,
  'ios.DeviceName': (d) => d.deviceName,
  'ios.iPhone UDID': (d) => d.udid,
  'user.user_id': (d) => d.userId,
  'user.email_address': (d) => d.email,
  'user.display_name': (d) => d.displayName,
};

const fieldsByType = (() => {
  const byType = new Map<FieldType, string[]>();
  for (const field of searchFields({ customAttributeNames: ['costCenter', 'site'] })) {
    if (!Object.hasOwn(READERS, field.name) && !field.name.startsWith('custom.device.')) continue;
    byType.set(field.type, [...(byType.get(field.type) ?? []), field.name]);
  }
  return byType;
})();
const enumValues = new Map(searchFields().flatMap((f) => (f.values ? [[f.name, f.values] as const] : [])));

const textValue = fc.oneof(
  fc.constantFrom(...TEXT_POOL),
  fc.string({ minLength: 1, maxLength: 8 }),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 4 }),
);
const numberValue = fc.oneof(
  fc.integer({ min: -5, max: 50 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (n === 0 ? 0 : n)),
);
const versionValue = fc.oneof(
  fc.constantFrom(...VERSION_POOL),
  fc.array(fc.nat({ max: 20 }), { minLength: 1, maxLength: 4 }).map((parts) => parts.join('.')),
);
const dateValue = fc.oneof(
  fc.constantFrom(...DATE_POOL),
  fc
    .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true })
    .chain((d) => fc.constantFrom(d.toISOString(), d.toISOString().slice(0, 10))),
);

function comparisonFor(type: FieldType): fc.Arbitrary<ComparisonNode> {
  const names = fieldsByType.get(type)!;
  return fc.tuple(fc.constantFrom(...names), fc.constantFrom(...OPERATORS_BY_TYPE[type])).chain(([field, operator]) => {
    const node = (value: ComparisonNode['value']): ComparisonNode => ({ type: 'comparison', field, operator, value });
    if (operator === 'is empty' || operator === 'is not empty') return fc.constant(node(null));
    switch (type) {
      case 'string':
        return textValue.map(node);
      case 'enum':
        return fc.constantFrom(...enumValues.get(field)!).map(node);
      case 'number':
        return numberValue.map(node);
      case 'boolean':
        return fc.boolean().map(node);
      case 'date':
        return dateValue.map(node);
      case 'version':
        return (
          operator === 'contains' || operator === 'starts with' || operator === 'does not contain'
            ? fc.oneof(versionValue, textValue)
            : versionValue
        ).map(node);
    }
  });
}

const comparison = fc.oneof(...[...fieldsByType.keys()].map(comparisonFor));

const { tree } = fc.letrec<{ tree: CriteriaNode }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    comparison,
    // Built as plain objects: fc.record makes null-prototype ones, which toStrictEqual tells apart.
    fc.array(tie('tree'), { minLength: 2, maxLength: 4 }).map((operands): CriteriaNode => ({ type: 'and', operands })),
    fc.array(tie('tree'), { minLength: 2, maxLength: 4 }).map((operands): CriteriaNode => ({ type: 'or', operands })),
    tie('tree').map((operand): CriteriaNode => ({ type: 'not', operand })),
  ),
}));

describe('formatCriteria / parseCriteria round trip', () => {
  it('parse(format(tree)) deep-equals tree', () => {
    fc.assert(
      fc.property(tree, (ast) => {
        expect(parseCriteria(formatCriteria(ast), { maxLength: Infinity })).toStrictEqual(ast);
      }),
      { numRuns: 500 },
    );
  });

  it('format is a fixed point after one parse, whatever the spelling', () => {
    const sloppy = fc.tuple(tree, fc.boolean()).map(([ast, lower]) => {
      const text = formatCriteria(ast);
      return lower ? text.replace(/ AND /g, ' and ').replace(/ OR /g, ' or ').replace(/NOT /g, 'not ') : text;
    });
    fc.assert(
      fc.property(sloppy, (text) => {
        const once = formatCriteria(parseCriteria(text, { maxLength: Infinity }));
        expect(formatCriteria(parseCriteria(once, { maxLength: Infinity }))).toBe(once);
      }),
      { numRuns: 200 },
    );
  });
});

// ---- reference evaluator ------------------------------------------------------------------

function typeOf(field: string): FieldType {
  return field.startsWith('custom.device.') ? 'string' : searchFields().find((f) => f.name === field)!.type;
}

function order(sign: number, operator: Operator): boolean {
  switch (operator) {
    case '=':
      return sign === 0;
    case '!=':
      return sign !== 0;
    case '<':
      return sign < 0;
    case '<=':
      return sign <= 0;
    case '>':
      return sign > 0;
    case '>=':
      return sign >= 0;
    default:
      throw new Error(`not an ordering operator: ${operator}`);
  }
}

function referenceComparison(node: ComparisonNode, d: DeviceFacts): boolean {
  const raw = node.field.startsWith('custom.device.')
    ? Object.hasOwn(d.custom, node.field.slice(14))
      ? d.custom[node.field.slice(14)]
      : undefined
    : READERS[node.field]!(d);
  const missing = raw === null || raw === undefined || raw === '' || (raw instanceof Date && Number.isNaN(raw.getTime()));
  if (node.operator === 'is empty') return missing;
  if (node.operator === 'is not empty') return !missing;
  if (missing) return false;

  const type = typeOf(node.field);
  const value = node.value!;
  if (node.operator === 'contains') return String(raw).toLowerCase().includes(String(value).toLowerCase());
  if (node.operator === 'starts with') return String(raw).toLowerCase().startsWith(String(value).toLowerCase());
  if (node.operator === 'does not contain') return !String(raw).toLowerCase().includes(String(value).toLowerCase());
  switch (type) {
    case 'string':
    case 'enum': {
      const a = String(raw).toLowerCase();
      const b = String(value).toLowerCase();
      return order(a < b ? -1 : a > b ? 1 : 0, node.operator);
    }
    case 'version':
      return order(compareVersions(String(raw), String(value)), node.operator);
    case 'number':
    case 'boolean':
      return order(raw === value ? 0 : (raw as number) < (value as number) ? -1 : 1, node.operator);
    case 'date': {
      const time = (raw as Date).getTime();
      const text = String(value);
      if (/^\d{4}-\d{2}-\d{2}$/.test(text)) {
        const dayStart = Date.parse(`${text}T00:00:00Z`);
        const sign = time < dayStart ? -1 : time >= dayStart + 86_400_000 ? 1 : 0;
        return order(sign, node.operator);
      }
      const instant = Date.parse(text);
      return order(Math.sign(time - instant), node.operator);
    }
  }
}

function reference(node: CriteriaNode, d: DeviceFacts): boolean {
  switch (node.type) {
    case 'comparison':
      return referenceComparison(node, d);
    case 'and':
      return node.operands.every((operand) => reference(operand, d));
    case 'or':
      return node.operands.some((operand) => reference(operand, d));
    case 'not':
      return !reference(node.operand, d);
  }
}

const maybe = <T>(arb: fc.Arbitrary<T>) => fc.oneof(arb, fc.constantFrom(null, ''));
const dateFact = fc.oneof(
  fc.constantFrom(...DATE_POOL).map((text) => new Date(text.length === 10 ? `${text}T12:00:00Z` : text)),
  fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true }),
);

const deviceFacts: fc.Arbitrary<DeviceFacts> = fc.record({
  id: numberValue,
  uuid: textValue,
  platform: fc.constantFrom('iOS', 'ios', 'Android', 'ANDROID', ''),
  osVersion: maybe(fc.oneof(versionValue, fc.constantFrom('17.0 beta'))),
  model: maybe(textValue),
  manufacturer: maybe(textValue),
  serialNumber: maybe(textValue),
  imei: maybe(textValue),
  owner: fc.constantFrom('COMPANY', 'employee'),
  status: fc.constantFrom('ACTIVE', 'RETIRED', 'lost', 'VERIFICATION_PENDING'),
  compliant: fc.boolean(),
  quarantined: fc.boolean(),
  registrationDate: dateFact,
  lastConnectedAt: fc.oneof(dateFact, fc.constant(null)),
  deviceName: maybe(textValue),
  udid: maybe(textValue),
  userId: maybe(textValue),
  email: maybe(textValue),
  displayName: maybe(textValue),
  custom: fc.dictionary(fc.constantFrom('costCenter', 'site'), textValue),
  adminDeviceSpaceId: fc.constant(1),
  wifiMac: fc.constant(null),
  ipAddress: fc.constant(null),
  phoneNumber: fc.constant(null),
  mdmEnrolled: fc.boolean(),
  info: fc.constant({}),
  security: fc.constant({}),
});

describe('compiled predicate', () => {
  it('agrees with the reference evaluator', () => {
    fc.assert(
      fc.property(tree, fc.array(deviceFacts, { minLength: 1, maxLength: 8 }), (ast, devices) => {
        const predicate = compileCriteria(ast);
        for (const d of devices) expect(predicate(d)).toBe(reference(ast, d));
      }),
      { numRuns: 1000 },
    );
  });

  it('agrees with the reference evaluator on single comparisons, where matches are likelier', () => {
    let matched = 0;
    fc.assert(
      fc.property(comparison, deviceFacts, (node, d) => {
        const result = compileCriteria(node)(d);
        if (result) matched++;
        expect(result).toBe(reference(node, d));
      }),
      { numRuns: 3000 },
    );
    // Guard against a generator that never produces a match, which would make this vacuous.
    expect(matched).toBeGreaterThan(300);
  });
});
