import { describe, expect, it } from 'vitest';
import { formatCriteria, parseCriteria, referencedFields, type Ast } from '../../../src/lib/criteria/index.js';

const eq = (field: string, value: string | number | boolean) => ({ type: 'comparison', field, operator: '=', value }) as const;

describe('parseCriteria: structure', () => {
  it('parses the MobileIron example into one AND node', () => {
    expect(parseCriteria('common.platform = "iOS" AND common.os_version = "9.3.1" AND common.model contains "iPad"')).toEqual({
      type: 'and',
      operands: [
        eq('common.platform', 'iOS'),
        eq('common.os_version', '9.3.1'),
        { type: 'comparison', field: 'common.model', operator: 'contains', value: 'iPad' },
      ],
    });
  });

  it('treats empty and whitespace-only criteria as match-all', () => {
    expect(parseCriteria('')).toEqual({ type: 'all' });
    expect(parseCriteria('  \n\t ')).toEqual({ type: 'all' });
  });

  it('binds AND tighter than OR', () => {
    expect(parseCriteria('common.id = 1 OR common.id = 2 AND common.id = 3')).toEqual({
      type: 'or',
      operands: [eq('common.id', 1), { type: 'and', operands: [eq('common.id', 2), eq('common.id', 3)] }],
    });
    expect(parseCriteria('common.id = 1 AND common.id = 2 OR common.id = 3')).toEqual({
      type: 'or',
      operands: [{ type: 'and', operands: [eq('common.id', 1), eq('common.id', 2)] }, eq('common.id', 3)],
    });
  });

  it('binds NOT tighter than AND', () => {
    expect(parseCriteria('NOT common.id = 1 AND common.id = 2')).toEqual({
      type: 'and',
      operands: [{ type: 'not', operand: eq('common.id', 1) }, eq('common.id', 2)],
    });
  });

  it('lets parentheses override precedence and keeps explicit grouping', () => {
    expect(parseCriteria('(common.id = 1 OR common.id = 2) AND common.id = 3')).toEqual({
      type: 'and',
      operands: [{ type: 'or', operands: [eq('common.id', 1), eq('common.id', 2)] }, eq('common.id', 3)],
    });
    expect(parseCriteria('NOT (common.id = 1 OR common.id = 2)')).toEqual({
      type: 'not',
      operand: { type: 'or', operands: [eq('common.id', 1), eq('common.id', 2)] },
    });
    expect(parseCriteria('(common.id = 1 AND common.id = 2) AND common.id = 3')).toEqual({
      type: 'and',
      operands: [{ type: 'and', operands: [eq('common.id', 1), eq('common.id', 2)] }, eq('common.id', 3)],
    });
    expect(parseCriteria('((common.id = 1))')).toEqual(eq('common.id', 1));
  });

  it('accepts keywords in any case and NOT NOT', () => {
    expect(parseCriteria('not NoT common.id = 1 and common.id = 2 Or common.id = 3')).toEqual({
      type: 'or',
      operands: [
        { type: 'and', operands: [{ type: 'not', operand: { type: 'not', operand: eq('common.id', 1) } }, eq('common.id', 2)] },
        eq('common.id', 3),
      ],
    });
  });

  it('needs no spaces around symbols and parentheses', () => {
    expect(parseCriteria('(common.id>=5)AND(common.model!="x")')).toEqual({
      type: 'and',
      operands: [
        { type: 'comparison', field: 'common.id', operator: '>=', value: 5 },
        { type: 'comparison', field: 'common.model', operator: '!=', value: 'x' },
      ],
    });
  });
});

describe('parseCriteria: fields', () => {
  it('matches names case-insensitively and reports the canonical spelling', () => {
    expect(parseCriteria('COMMON.SERIALNUMBER = abc')).toEqual(eq('common.SerialNumber', 'abc'));
    expect(parseCriteria('"common.serialnumber" = abc')).toEqual(eq('common.SerialNumber', 'abc'));
  });

  it('accepts quoted names with spaces', () => {
    expect(parseCriteria('"ios.iPhone UDID" = "0000-1111"')).toEqual(eq('ios.iPhone UDID', '0000-1111'));
    expect(parseCriteria('"IOS.IPHONE UDID" is empty')).toEqual({
      type: 'comparison',
      field: 'ios.iPhone UDID',
      operator: 'is empty',
      value: null,
    });
  });

  it('accepts custom device attributes, keeping the attribute spelling', () => {
    expect(parseCriteria('Custom.Device.costCenter = "R&D"')).toEqual(eq('custom.device.costCenter', 'R&D'));
    expect(parseCriteria('"custom.device.a-b_c.9" = x')).toEqual(eq('custom.device.a-b_c.9', 'x'));
  });
});

describe('parseCriteria: operators', () => {
  it.each([
    ['contains', 'contains'],
    ['CONTAINS', 'contains'],
    ['"contains"', 'contains'],
    ['starts with', 'starts with'],
    ['Starts  With', 'starts with'],
    ['"starts with"', 'starts with'],
    ['"Starts   WITH"', 'starts with'],
    ['does not contain', 'does not contain'],
    ['"does not contain"', 'does not contain'],
    ['DOES NOT CONTAIN', 'does not contain'],
    ['=', '='],
    ['!=', '!='],
    ['<', '<'],
    ['<=', '<='],
    ['>', '>'],
    ['>=', '>='],
    ['"<="', '<='],
  ])('reads %s as %s', (written, operator) => {
    expect(parseCriteria(`common.model ${written} "x"`)).toEqual({
      type: 'comparison',
      field: 'common.model',
      operator,
      value: 'x',
    });
  });

  it.each([
    ['is empty', 'is empty'],
    ['IS EMPTY', 'is empty'],
    ['"is empty"', 'is empty'],
    ['is not empty', 'is not empty'],
    ['"is not empty"', 'is not empty'],
    ['Is Not Empty', 'is not empty'],
  ])('reads unary %s', (written, operator) => {
    expect(parseCriteria(`common.imei ${written} AND common.id = 1`)).toEqual({
      type: 'and',
      operands: [{ type: 'comparison', field: 'common.imei', operator, value: null }, eq('common.id', 1)],
    });
  });
});

describe('parseCriteria: values', () => {
  it('resolves \\" and \\\\ escapes and keeps other backslashes', () => {
    expect(parseCriteria('common.model = "a \\"quoted\\" \\\\ b \\n"')).toEqual(eq('common.model', 'a "quoted" \\ b \\n'));
  });

  it('keeps whitespace inside quoted values', () => {
    expect(parseCriteria('common.model = "  iPad Air  "')).toEqual(eq('common.model', '  iPad Air  '));
  });

  it('accepts bare words such as addresses and model identifiers', () => {
    expect(parseCriteria('common.model = iPad4,1')).toEqual(eq('common.model', 'iPad4,1'));
    expect(parseCriteria('common.model = 10.0.0.1')).toEqual(eq('common.model', '10.0.0.1'));
    expect(parseCriteria('common.model = a!b')).toEqual(eq('common.model', 'a!b'));
  });

  it('types values by field', () => {
    expect(parseCriteria('common.id = 42')).toEqual(eq('common.id', 42));
    expect(parseCriteria('common.id = "-1.5e2"')).toEqual(eq('common.id', -150));
    expect(parseCriteria('common.compliant = TRUE')).toEqual(eq('common.compliant', true));
    expect(parseCriteria('common.quarantined = "false"')).toEqual(eq('common.quarantined', false));
    expect(parseCriteria('common.platform = "ios"')).toEqual(eq('common.platform', 'iOS'));
    expect(parseCriteria('common.status = verification_pending')).toEqual(eq('common.status', 'VERIFICATION_PENDING'));
    expect(parseCriteria('common.owner = employee')).toEqual(eq('common.owner', 'EMPLOYEE'));
    expect(parseCriteria('common.os_version >= 9.3')).toEqual({
      type: 'comparison',
      field: 'common.os_version',
      operator: '>=',
      value: '9.3',
    });
    expect(parseCriteria('common.registration_date < 2024-03-01T10:00:00+02:00')).toEqual({
      type: 'comparison',
      field: 'common.registration_date',
      operator: '<',
      value: '2024-03-01T10:00:00+02:00',
    });
  });

  it('reads NOT and true as plain values in value position', () => {
    expect(parseCriteria('common.model = not')).toEqual(eq('common.model', 'not'));
    expect(parseCriteria('common.model = true')).toEqual(eq('common.model', 'true'));
    expect(parseCriteria('common.model = "AND"')).toEqual(eq('common.model', 'AND'));
  });
});

describe('formatCriteria', () => {
  it.each([
    ['', ''],
    ['common.platform = ios and common.model contains iPad', 'common.platform = "iOS" AND common.model contains "iPad"'],
    ['"ios.iPhone UDID" "IS NOT EMPTY"', '"ios.iPhone UDID" is not empty'],
    [
      '(common.id = 1 or common.id = 2) and not (common.id = 3 and common.id = 4)',
      '(common.id = 1 OR common.id = 2) AND NOT (common.id = 3 AND common.id = 4)',
    ],
    ['common.id = 1 or (common.id = 2 and common.id = 3)', 'common.id = 1 OR common.id = 2 AND common.id = 3'],
    ['(common.id = 1 or common.id = 2) or common.id = 3', '(common.id = 1 OR common.id = 2) OR common.id = 3'],
    ['common.model = "say \\"hi\\" \\\\"', 'common.model = "say \\"hi\\" \\\\"'],
    ['common.compliant = TRUE', 'common.compliant = true'],
  ])('formats %j as %j', (input, expected) => {
    expect(formatCriteria(parseCriteria(input))).toBe(expected);
  });
});

describe('referencedFields', () => {
  it('lists canonical names once each, in order of first use', () => {
    const ast = parseCriteria('COMMON.MODEL = x OR (NOT common.platform = ios AND common.model = y) OR custom.device.Site is empty');
    expect(referencedFields(ast)).toEqual(['common.model', 'common.platform', 'custom.device.Site']);
  });

  it('is empty for match-all criteria', () => {
    const all: Ast = { type: 'all' };
    expect(referencedFields(all)).toEqual([]);
  });
});
