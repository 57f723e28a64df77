// Criteria over device facts (Core's label criteria and device search queries) compiled to
// predicates, cached by text; a parse error becomes a validation DomainError naming the field,
// its column and a caret excerpt. Device search and filter labels both compile through here.
import { compileCriteria, CriteriaError, type CriteriaErrorKey, type DeviceFacts } from '../lib/criteria/index.js';
import { DomainError, type ErrorCode } from '../platform/errors/index.js';

export type Predicate = (facts: DeviceFacts) => boolean;

export const criteriaMaxLength = 2000;
export const queryMaxLength = 255;

/** The catalogue's code for each problem the criteria parser names. */
const criteriaErrorCodes: Record<CriteriaErrorKey, ErrorCode> = {
  'criteria.too_long': 'criteria.tooLong',
  'criteria.too_deep': 'criteria.tooDeep',
  'criteria.unterminated_string': 'criteria.unterminatedString',
  'criteria.unknown_field': 'criteria.unknownField',
  'criteria.invalid_custom_attribute': 'criteria.invalidCustomAttribute',
  'criteria.expected_field': 'criteria.expectedField',
  'criteria.missing_operator': 'criteria.missingOperator',
  'criteria.unknown_operator': 'criteria.unknownOperator',
  'criteria.operator_not_allowed': 'criteria.operatorNotAllowed',
  'criteria.missing_value': 'criteria.missingValue',
  'criteria.bad_value': 'criteria.badValue',
  'criteria.unclosed_parenthesis': 'criteria.unclosedParenthesis',
  'criteria.unmatched_parenthesis': 'criteria.unmatchedParenthesis',
  'criteria.empty_parentheses': 'criteria.emptyParentheses',
  'criteria.trailing_garbage': 'criteria.trailingGarbage',
};

/** Rethrows a criteria parse error as a validation error naming `field`, the column and a caret excerpt. */
export function criteriaDomainError(err: unknown, field: string): never {
  if (err instanceof CriteriaError) {
    throw new DomainError(criteriaErrorCodes[err.messageKey], err.message, {
      field,
      column: err.column,
      excerpt: err.excerpt,
    });
  }
  throw err;
}

const cache = new Map<string, Predicate>();

/**
 * Compiles (once) or throws a validation DomainError naming `field`, with column and caret
 * excerpt. `freeText`: a lone word is a free-text search (device search's query=, not labels).
 */
export function compileOrThrow(criteria: string, field = 'criteria', maxLength = criteriaMaxLength, freeText = false): Predicate {
  const key = `${maxLength}\u0000${freeText ? 't' : 'c'}\u0000${criteria}`;
  let p = cache.get(key);
  if (!p) {
    try {
      p = compileCriteria(criteria, { maxLength, freeText });
    } catch (err) {
      criteriaDomainError(err, field);
    }
    if (cache.size > 5000) cache.clear();
    cache.set(key, p);
  }
  return p;
}
