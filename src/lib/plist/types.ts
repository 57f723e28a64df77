// The value model shared by the plist writer, parser, profile builders and lint.
// JS numbers are written as <integer> when integral and <real> otherwise; wrap a number in
// PlistReal to force <real> (e.g. 3600 for a key Apple types as <real>). Parsed <real>
// elements come back as PlistReal so lint can tell `<real>1</real>` from `<integer>1</integer>`.

/** A number that must be written (and was read) as `<real>`. */
export class PlistReal {
  constructor(readonly value: number) {}
  valueOf(): number {
    return this.value;
  }
  toJSON(): number {
    return this.value;
  }
}

export type PlistScalar = string | number | bigint | boolean | Date | Uint8Array | PlistReal;
export type PlistValue = PlistScalar | PlistValue[] | PlistDict;
/** Keys are written in insertion order; `undefined` values are skipped (handy for optional keys). */
export interface PlistDict {
  [key: string]: PlistValue | undefined;
}

export function isPlistDict(value: unknown): value is PlistDict {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Date) &&
    !(value instanceof Uint8Array) &&
    !(value instanceof PlistReal)
  );
}

/** The plist element name a value is written as (and lint reports). */
export type PlistTypeName = 'string' | 'integer' | 'real' | 'boolean' | 'date' | 'data' | 'array' | 'dictionary';

export function plistTypeOf(value: PlistValue): PlistTypeName {
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'bigint') return 'integer';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'real';
  if (value instanceof PlistReal) return 'real';
  if (value instanceof Date) return 'date';
  if (value instanceof Uint8Array) return 'data';
  if (Array.isArray(value)) return 'array';
  return 'dictionary';
}

/** A JSON-safe view: data → base64 string, date → ISO string, real → number, bigint → number or string. */
export function plistToJson(value: PlistValue): unknown {
  if (value instanceof PlistReal) return value.value;
  if (value instanceof Date) return value.toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (Array.isArray(value)) return value.map(plistToJson);
  if (isPlistDict(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = plistToJson(v);
    return out;
  }
  return value;
}
