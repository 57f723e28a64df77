import { describe, expect, it } from 'vitest';
import { CriteriaError, compileCriteria, parseCriteria, type Ast } from '../../../src/lib/criteria/index.js';

function errorOf(run: () => unknown): CriteriaError {
  try {
    run();
  } catch (error) {
    if (error instanceof CriteriaError) return error;
    throw error;
  }
  throw new Error('expected a CriteriaError');
}

const parseError = (text: string, maxLength?: number) => errorOf(() => parseCriteria(text, maxLength === undefined ? {} : { maxLength }));

describe('CriteriaError for each kind of mistake', () => {
  it.each([
    // [criteria, messageKey, column, message fragment]
    ['common.platfrom = iOS', 'criteria.unknown_field', 1, 'did you mean common.platform?'],
    ['common.id = 1 AND COMMON.MODLE = x', 'criteria.unknown_field', 19, 'did you mean common.model?'],
    // A bare name resolves only when one field has it (SerialNumber does); model is both common.model and ios.Model.
    ['model = x', 'criteria.unknown_field', 1, 'did you mean common.model?'],
    ['serial_number = x', 'criteria.unknown_field', 1, 'did you mean common.SerialNumber?'],
    ['wibble = 1', 'criteria.unknown_field', 1, 'Unknown field "wibble"'],
    ['ios.iPhone UDID = x', 'criteria.unknown_field', 1, 'must be quoted: "ios.iPhone UDID"'],
    ['custom.device.x/y = 1', 'criteria.invalid_custom_attribute', 1, '"x/y"'],
    [`custom.device.${'a'.repeat(65)} = 1`, 'criteria.invalid_custom_attribute', 1, '1 to 64'],
    ['common.compliant < true', 'criteria.operator_not_allowed', 18, 'use one of "=", "!=", "is empty", "is not empty"'],
    ['common.id contains 4', 'criteria.operator_not_allowed', 11, '"contains" does not apply to common.id (a number field)'],
    ['common.platform starts with i', 'criteria.operator_not_allowed', 17, 'common.platform (an enum field)'],
    ['common.registration_date contains 2024', 'criteria.operator_not_allowed', 26, '(a date field)'],
    ['common.model like x', 'criteria.unknown_operator', 14, 'Unknown operator "like"'],
    ['common.model starts x', 'criteria.unknown_operator', 14, 'Unknown operator "starts"'],
    ['common.model "begins with" x', 'criteria.unknown_operator', 14, '"begins with"'],
    ['common.model', 'criteria.missing_operator', 13, 'Expected an operator after common.model'],
    ['(common.model) = x', 'criteria.missing_operator', 14, 'Expected an operator'],
    ['common.id = abc', 'criteria.bad_value', 13, 'common.id is a number; "abc" is not a number'],
    ['common.id = 1e999', 'criteria.bad_value', 13, 'not a number'],
    ['common.compliant = yes', 'criteria.bad_value', 20, 'true or false'],
    ['common.platform = "windows"', 'criteria.bad_value', 19, 'expected one of iOS, Android'],
    ['common.status = gone', 'criteria.bad_value', 17, 'VERIFICATION_PENDING, ACTIVE, RETIRED, WIPED, LOST, BLOCKED'],
    ['common.os_version > "nine"', 'criteria.bad_value', 21, 'not a version'],
    ['common.registration_date > 2024-02-30', 'criteria.bad_value', 28, 'not a valid date'],
    ['common.registration_date > "yesterday"', 'criteria.bad_value', 28, 'not a valid date'],
    ['common.last_connected_at > 2024-01-01T25:00:00Z', 'criteria.bad_value', 28, 'not a valid date'],
    ['common.model = ""', 'criteria.bad_value', 16, 'use "is empty"'],
    ['common.model = "iPad', 'criteria.unterminated_string', 16, 'Unterminated string'],
    ['"common.model = iPad', 'criteria.unterminated_string', 1, 'Unterminated string'],
    ['common.model = "ends with escaped quote\\"', 'criteria.unterminated_string', 16, 'Unterminated'],
    ['(common.id = 1 OR (common.id = 2)', 'criteria.unclosed_parenthesis', 1, 'Unclosed "("'],
    ['common.id = 1 AND (common.id = 2 OR common.id = 3', 'criteria.unclosed_parenthesis', 19, 'Unclosed'],
    ['common.id = 1)', 'criteria.unmatched_parenthesis', 14, 'Unmatched ")"'],
    ['(common.id = 1)) AND common.id = 2', 'criteria.unmatched_parenthesis', 16, 'Unmatched'],
    [') common.id = 1', 'criteria.unmatched_parenthesis', 1, 'Unmatched'],
    ['common.id =', 'criteria.missing_value', 12, 'Missing value after common.id ='],
    ['common.id =    ', 'criteria.missing_value', 12, 'Missing value'],
    ['common.model contains AND common.id = 1', 'criteria.missing_value', 23, 'found "AND"'],
    ['(common.model = ) AND common.id = 1', 'criteria.missing_value', 17, 'found ")"'],
    ['common.model = = x', 'criteria.missing_value', 16, 'found "="'],
    ['common.model = iPad Air', 'criteria.trailing_garbage', 21, 'quote values that contain spaces'],
    ['common.id = 1 common.id = 2', 'criteria.trailing_garbage', 15, 'expected AND, OR or end of criteria'],
    ['(common.id = 1 common.id = 2)', 'criteria.trailing_garbage', 16, 'expected AND, OR or ")"'],
    ['common.model is empty x', 'criteria.trailing_garbage', 23, 'Unexpected "x"'],
    ['()', 'criteria.empty_parentheses', 1, 'Empty parentheses'],
    ['common.id = 1 AND ( )', 'criteria.empty_parentheses', 19, 'Empty parentheses'],
    ['common.id = 1 AND', 'criteria.expected_field', 18, 'found the end of the criteria'],
    ['common.id = 1 AND OR common.id = 2', 'criteria.expected_field', 19, 'found OR'],
    ['NOT', 'criteria.expected_field', 4, 'Expected a field name'],
    ['= 1', 'criteria.expected_field', 1, 'found "="'],
    ['(common.id = 1 AND )', 'criteria.expected_field', 20, 'found ")"'],
  ])('%j → %s at column %i', (text, key, column, fragment) => {
    const error = parseError(text);
    expect(error.messageKey).toBe(key);
    expect(error.column).toBe(column);
    expect(error.message).toContain(fragment);
    expect(error.message).toContain(`(column ${column})`);
    expect(error.excerpt.split('\n')[1]).toBe(`${' '.repeat(column - 1)}^`);
  });

  it('is an Error with a useful name and report', () => {
    const error = parseError('common.platfrom = iOS');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('CriteriaError');
    expect(error.excerpt).toBe('common.platfrom = iOS\n^');
    expect(error.report).toBe(`${error.message}\n${error.excerpt}`);
  });

  it('draws the caret under the offending token', () => {
    expect(parseError('common.model = x AND common.compliant > true').excerpt).toBe(
      'common.model = x AND common.compliant > true\n' + '                                      ^',
    );
  });

  it('keeps the caret aligned when the text has tabs and newlines', () => {
    const error = parseError('common.id = 1\n\tAND common.bogus = 2');
    expect(error.column).toBe(20);
    expect(error.excerpt).toBe('common.id = 1  AND common.bogus = 2\n' + '                   ^');
  });

  it('shows a window around the column of a long expression', () => {
    const prefix = Array.from({ length: 20 }, (_, i) => `common.id = ${i}`).join(' AND ');
    const text = `${prefix} AND common.nope = 1 AND ${prefix}`;
    const error = parseError(text);
    expect(error.column).toBe(prefix.length + 6);
    const [window, caret] = error.excerpt.split('\n') as [string, string];
    expect(window.startsWith('…')).toBe(true);
    expect(window.endsWith('…')).toBe(true);
    expect(window.length).toBeLessThanOrEqual(82);
    // The caret points at the unknown field inside the window.
    expect(window.slice(caret.length - 1).startsWith('common.nope')).toBe(true);
  });

  it('suggests nothing for inputs far from every field', () => {
    expect(parseError('a = 1').message).not.toContain('did you mean');
    expect(parseError('zzzzzzzzzz = 1').message).not.toContain('did you mean');
  });
});

describe('length limit', () => {
  const long = `common.model = "${'x'.repeat(300)}"`;

  it('defaults to 2000 characters', () => {
    expect(() => parseCriteria(`common.model = "${'x'.repeat(1983)}"`)).not.toThrow();
    const error = parseError(`common.model = "${'x'.repeat(1984)}"`);
    expect(error.messageKey).toBe('criteria.too_long');
    expect(error.column).toBe(2001);
    expect(error.message).toContain('the limit is 2000');
  });

  it('takes a maxLength option', () => {
    expect(() => parseCriteria(long)).not.toThrow();
    const error = parseError(long, 255);
    expect(error.messageKey).toBe('criteria.too_long');
    expect(error.message).toBe(`Criteria is ${long.length} characters long; the limit is 255 (column 256)`);
    expect(error.column).toBe(256);
    expect(() => parseCriteria('common.id = 1', { maxLength: 13 })).not.toThrow();
    expect(parseError('common.id = 12', 13).messageKey).toBe('criteria.too_long');
  });

  it('applies to compileCriteria too', () => {
    expect(errorOf(() => compileCriteria(long, { maxLength: 255 })).messageKey).toBe('criteria.too_long');
  });

  it('limits nesting depth', () => {
    const deep = `${'('.repeat(101)}common.id = 1${')'.repeat(101)}`;
    const error = parseError(deep);
    expect(error.messageKey).toBe('criteria.too_deep');
    expect(error.column).toBe(101);
    expect(() => parseCriteria(`${'('.repeat(100)}common.id = 1${')'.repeat(100)}`)).not.toThrow();
  });
});

describe('compileCriteria on a hand-built tree', () => {
  it('validates the tree and points into its canonical text', () => {
    const bad: Ast = {
      type: 'and',
      operands: [
        { type: 'comparison', field: 'common.model', operator: '=', value: 'x' },
        { type: 'comparison', field: 'common.compliant', operator: 'contains', value: 'x' },
      ],
    };
    const error = errorOf(() => compileCriteria(bad));
    expect(error.messageKey).toBe('criteria.operator_not_allowed');
    expect(error.excerpt).toBe('common.model = "x" AND common.compliant contains "x"\n' + ' '.repeat(40) + '^');
  });
});
