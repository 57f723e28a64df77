// Turning the literal text of a value into the typed value its field needs, with a message
// saying what was expected when it does not fit.

import { isVersionLike } from '../versions/compare.js';
import { isEmptinessOperator, type ComparisonValue, type Operator } from './ast.js';
import type { FieldDefinition } from './fields.js';

export type TypedValueResult = { ok: true; value: ComparisonValue } | { ok: false; message: string };

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

export function typeValue(field: FieldDefinition, operator: Operator, literal: string): TypedValueResult {
  if (isEmptinessOperator(operator)) throw new Error('emptiness tests take no value');
  if (literal === '') {
    return { ok: false, message: `Empty value for ${field.name}; to find devices without it, use "is empty"` };
  }
  const shown = JSON.stringify(literal);
  switch (field.type) {
    case 'string':
      return { ok: true, value: literal };
    case 'enum': {
      const allowed = field.values ?? [];
      const match = allowed.find((candidate) => candidate.toLowerCase() === literal.toLowerCase());
      if (match !== undefined) return { ok: true, value: match };
      return { ok: false, message: `${shown} is not a value of ${field.name}; expected one of ${allowed.join(', ')}` };
    }
    case 'number': {
      const number = NUMBER.test(literal) ? Number(literal) : NaN;
      if (!Number.isFinite(number)) return { ok: false, message: `${field.name} is a number; ${shown} is not a number` };
      return { ok: true, value: number === 0 ? 0 : number }; // no -0: it would not survive formatting
    }
    case 'boolean': {
      const lower = literal.toLowerCase();
      if (lower === 'true' || lower === 'false') return { ok: true, value: lower === 'true' };
      return { ok: false, message: `${field.name} is true or false; ${shown} is neither` };
    }
    case 'version':
      // contains / starts with work on the text, so any text is fine there.
      if (operator === 'contains' || operator === 'starts with' || operator === 'does not contain') {
        return { ok: true, value: literal };
      }
      if (!isVersionLike(literal)) {
        return { ok: false, message: `${field.name} is a version; ${shown} is not a version like 9.3.1` };
      }
      return { ok: true, value: literal };
    case 'date':
      if (parseDateValue(literal) === null) {
        return {
          ok: false,
          message: `${field.name} is a date; ${shown} is not a valid date (use yyyy-mm-dd or ISO-8601 like 2024-03-01T12:00:00Z)`,
        };
      }
      return { ok: true, value: literal };
  }
}

/**
 * A date value as the half-open range of instants it stands for, in epoch milliseconds. A full
 * timestamp is a single instant (end = start + 1 ms); a bare yyyy-mm-dd is the whole UTC day,
 * so `= 2024-03-01` matches devices registered any time that day.
 */
export interface DateRange {
  start: number;
  end: number;
}

const DATE_VALUE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?)?$/;

const DAY_MS = 86_400_000;

/** Parses yyyy-mm-dd or ISO-8601; a timestamp without an offset is taken as UTC. */
export function parseDateValue(text: string): DateRange | null {
  const m = DATE_VALUE.exec(text.trim());
  if (!m) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const dayStart = Date.UTC(year, month - 1, day);
  const check = new Date(dayStart);
  // Date.UTC rolls 2024-02-30 over to March; reject instead.
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return null;
  if (m[4] === undefined) return { start: dayStart, end: dayStart + DAY_MS };

  const hours = Number(m[4]);
  const minutes = Number(m[5]);
  const seconds = m[6] === undefined ? 0 : Number(m[6]);
  const millis = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  if (hours > 23 || minutes > 59 || seconds > 59) return null;
  let offsetMinutes = 0;
  const zone = m[8];
  if (zone !== undefined && zone.toUpperCase() !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    const zoneHours = Number(digits.slice(0, 2));
    const zoneMinutes = digits.length > 2 ? Number(digits.slice(2)) : 0;
    if (zoneHours > 23 || zoneMinutes > 59) return null;
    offsetMinutes = (zone[0] === '-' ? -1 : 1) * (zoneHours * 60 + zoneMinutes);
  }
  const instant = dayStart + ((hours * 60 + minutes - offsetMinutes) * 60 + seconds) * 1000 + millis;
  return { start: instant, end: instant + 1 };
}
