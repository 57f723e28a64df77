// Who is in a label. Manual labels: rows in DeviceLabel. Filter (and system) labels: every
// device whose facts match the criteria, evaluated on read, so membership is always current
// without bookkeeping on every write. Compiled predicates are cached by criteria text.
import { compileCriteria, CriteriaError, type DeviceFacts } from '../lib/criteria/index.js';
import { ApiError } from '../platform/http/errors.js';

export type Predicate = (facts: DeviceFacts) => boolean;

export interface LabelLike {
  id: number;
  isStatic: boolean;
  criteria: string | null;
}

export const criteriaMaxLength = 2000;
export const queryMaxLength = 255;

export function criteriaApiError(err: unknown, field: string): never {
  if (err instanceof CriteriaError) {
    throw new ApiError(400, `com.mobileiron.vsp.messages.${err.messageKey}`, err.message, {
      field,
      column: err.column,
      excerpt: err.excerpt,
    });
  }
  throw err;
}

const cache = new Map<string, Predicate>();

/** Compiles (once) or throws a 400 ApiError naming `field`, with column and caret excerpt. */
export function compileOrThrow(criteria: string, field = 'criteria', maxLength = criteriaMaxLength): Predicate {
  const key = `${maxLength}\u0000${criteria}`;
  let p = cache.get(key);
  if (!p) {
    try {
      p = compileCriteria(criteria, { maxLength });
    } catch (err) {
      criteriaApiError(err, field);
    }
    if (cache.size > 5000) cache.clear();
    cache.set(key, p);
  }
  return p;
}

/** Predicate for a filter label; manual labels have none (membership is stored). */
export function labelPredicate(label: LabelLike): Predicate | null {
  if (label.isStatic) return null;
  return compileOrThrow(label.criteria ?? '');
}
