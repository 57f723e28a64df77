// Who is in a label. Manual labels: rows in DeviceLabel. Filter (and system) labels: every
// device whose facts match the criteria. The device directory keeps a member set per criteria
// and brings it up to date on read by re-evaluating only the devices changed since, so
// membership is always current without bookkeeping on every write.
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

/** The key of a filter label's member set in the device directory: its criteria (two labels with the same criteria share one). */
export function membershipKey(label: LabelLike): string {
  return `criteria:${label.criteria ?? ''}`;
}
