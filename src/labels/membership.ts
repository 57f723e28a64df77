// Who is in a label. Manual labels: rows in DeviceLabel. Filter (and system) labels: every
// device whose facts match the criteria, evaluated on read, so membership is always current
// without bookkeeping on every write.
import { compileOrThrow, type Predicate } from '../devices/index.js';

export interface LabelLike {
  id: number;
  isStatic: boolean;
  criteria: string | null;
}

/** Predicate for a filter label; manual labels have none (membership is stored). */
export function labelPredicate(label: LabelLike): Predicate | null {
  if (label.isStatic) return null;
  return compileOrThrow(label.criteria ?? '');
}
