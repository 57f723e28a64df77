// Typed reads from decoded plist dictionaries, shared by the check-in and result decoders.
// Every failure is an MdmProtocolError naming the key path, so a device bug reads as
// "TokenUpdate: Token must be data" rather than a TypeError deep in a route.

import {
  PlistParseError,
  PlistReal,
  isPlistDict,
  parsePlist,
  plistTypeOf,
  type PlistDict,
  type PlistLimits,
  type PlistValue,
} from '../plist/index.js';
import { MdmProtocolError } from './errors.js';

/**
 * Parses an XML or binary plist body whose root must be a dictionary, within `limits` (the
 * plist codec's defaults when absent). Throws only MdmProtocolError.
 */
export function decodePlistDict(body: Uint8Array | string, what: string, limits?: PlistLimits): PlistDict {
  const size = typeof body === 'string' ? body.trim().length : body.byteLength;
  if (size === 0) throw new MdmProtocolError('NOT_A_PLIST', `${what}: the body is empty`);
  let value: PlistValue;
  try {
    value = parsePlist(body, limits);
  } catch (err) {
    // PlistParseError speaks our words; anything else (an engine error) is not repeated
    const reason = err instanceof PlistParseError ? err.message : 'not a readable property list';
    throw new MdmProtocolError('NOT_A_PLIST', `${what}: ${reason}`);
  }
  if (!isPlistDict(value)) {
    throw new MdmProtocolError('NOT_A_DICT', `${what}: the plist root is ${article(plistTypeOf(value))}, not a dictionary`);
  }
  return value;
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/** Removes undefined-valued keys, so decoded objects show exactly what the device sent. */
export function dropUndefined<T extends object>(value: T): T {
  for (const key of Object.keys(value) as (keyof T)[]) if (value[key] === undefined) delete value[key];
  return value;
}

export function fieldPath(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function invalid(path: string, expected: string, value: PlistValue): never {
  throw new MdmProtocolError('INVALID_FIELD', `${path} must be ${expected}, not ${article(plistTypeOf(value))}`, path);
}

function missing(path: string, what: string): never {
  throw new MdmProtocolError('MISSING_FIELD', `${what}: ${path} is missing`, path);
}

export function optionalString(dict: PlistDict, key: string, path = ''): string | undefined {
  const value = dict[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') invalid(fieldPath(path, key), 'a string', value);
  return value;
}

/** A required string; an empty string counts as missing (an empty UDID identifies nothing). */
export function requiredString(dict: PlistDict, key: string, what: string, path = ''): string {
  const value = optionalString(dict, key, path);
  if (value === undefined || value === '') missing(fieldPath(path, key), what);
  return value;
}

export function optionalBoolean(dict: PlistDict, key: string, path = ''): boolean | undefined {
  const value = dict[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') invalid(fieldPath(path, key), 'a boolean', value);
  return value;
}

export function optionalInteger(dict: PlistDict, key: string, path = ''): number | undefined {
  const value = dict[key];
  if (value === undefined) return undefined;
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  // Beyond 2^53 (not seen in the fields read here) precision is lost rather than the message refused
  if (typeof value === 'bigint') return Number(value);
  return invalid(fieldPath(path, key), 'an integer', value);
}

/** <real>, or an <integer> where a real is documented (devices are not always consistent). */
export function optionalNumber(dict: PlistDict, key: string, path = ''): number | undefined {
  const value = dict[key];
  if (value === undefined) return undefined;
  if (value instanceof PlistReal) return value.value;
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  return invalid(fieldPath(path, key), 'a number', value);
}

export function optionalData(dict: PlistDict, key: string, path = ''): Buffer | undefined {
  const value = dict[key];
  if (value === undefined) return undefined;
  if (!(value instanceof Uint8Array)) invalid(fieldPath(path, key), 'data', value);
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

export function requiredData(dict: PlistDict, key: string, what: string, path = ''): Buffer {
  const value = optionalData(dict, key, path);
  if (value === undefined) missing(fieldPath(path, key), what);
  return value;
}

export function optionalDate(dict: PlistDict, key: string, path = ''): Date | undefined {
  const value = dict[key];
  if (value === undefined) return undefined;
  if (!(value instanceof Date)) invalid(fieldPath(path, key), 'a date', value);
  return value;
}

export function optionalDict(dict: PlistDict, key: string, path = ''): PlistDict | undefined {
  const value = dict[key];
  if (value === undefined) return undefined;
  if (!isPlistDict(value)) invalid(fieldPath(path, key), 'a dictionary', value);
  return value;
}

export function requiredDict(dict: PlistDict, key: string, what: string, path = ''): PlistDict {
  const value = optionalDict(dict, key, path);
  if (value === undefined) missing(fieldPath(path, key), what);
  return value;
}

export function optionalArray(dict: PlistDict, key: string, path = ''): PlistValue[] | undefined {
  const value = dict[key];
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) invalid(fieldPath(path, key), 'an array', value);
  return value;
}

export function requiredArray(dict: PlistDict, key: string, what: string, path = ''): PlistValue[] {
  const value = optionalArray(dict, key, path);
  if (value === undefined) missing(fieldPath(path, key), what);
  return value;
}

export function optionalStringArray(dict: PlistDict, key: string, path = ''): string[] | undefined {
  const items = optionalArray(dict, key, path);
  if (items === undefined) return undefined;
  return items.map((item, i) => {
    if (typeof item !== 'string') invalid(`${fieldPath(path, key)}[${i}]`, 'a string', item);
    return item;
  });
}

/** A value that must be a dictionary, e.g. a value of a dictionary keyed by bundle id. */
export function expectDict(value: PlistValue, path: string): PlistDict {
  if (!isPlistDict(value)) invalid(path, 'a dictionary', value);
  return value;
}

/** The dictionaries of an array, each with its key path for further reads. */
export function dictItems(items: PlistValue[], path: string): { item: PlistDict; path: string }[] {
  return items.map((item, i) => {
    const itemPath = `${path}[${i}]`;
    if (!isPlistDict(item)) invalid(itemPath, 'a dictionary', item);
    return { item, path: itemPath };
  });
}
