// The one catalogue: stable codes, message keys in one of the two documented forms, and every
// kind answered by every edge (an HTTP status, a CLI exit code).
import { describe, expect, it } from 'vitest';
import { exitCodeOfKind } from '../../../src/platform/cli/errors.js';
import {
  CORE_KEY_PREFIX,
  DomainError,
  MOCKIRON_KEY_PREFIX,
  errorCatalogue,
  errorKinds,
  isErrorCode,
  type ErrorCode,
} from '../../../src/platform/errors/index.js';
import { httpStatusOfKind } from '../../../src/platform/http/errors.js';

const entries = Object.entries(errorCatalogue) as [ErrorCode, (typeof errorCatalogue)[ErrorCode]][];

describe('the error catalogue', () => {
  it('has codes that are unique regardless of case and written as area.condition', () => {
    const lower = entries.map(([code]) => code.toLowerCase());
    expect(new Set(lower).size).toBe(entries.length);
    for (const [code] of entries) expect(code).toMatch(/^[a-z]+\.[a-z][A-Za-z0-9]*$/);
  });

  it('writes every key in one of the two documented forms, the form matching whose condition it is', () => {
    for (const [code, entry] of entries) {
      const expected = entry.origin === 'mockiron' ? MOCKIRON_KEY_PREFIX : CORE_KEY_PREFIX;
      expect({ code, key: entry.messageKey.startsWith(expected) }).toEqual({ code, key: true });
      expect(entry.messageKey.length).toBeGreaterThan(expected.length);
    }
  });

  it('keeps the keys clients have always seen (a sample across capabilities)', () => {
    expect(errorCatalogue['request.invalid'].messageKey).toBe('com.mobileiron.vsp.messages.validation');
    expect(errorCatalogue['resource.notFound'].messageKey).toBe('com.mobileiron.vsp.messages.http.404');
    expect(errorCatalogue['device.csvRow'].messageKey).toBe('com.mobileiron.vsp.messages.csv.row');
    expect(errorCatalogue['criteria.unknownField'].messageKey).toBe('com.mobileiron.vsp.messages.criteria.unknown_field');
    expect(errorCatalogue['vpn.inUse']).toEqual({
      kind: 'conflict',
      messageKey: 'com.mobileiron.vsp.messages.vpn.inUse',
      origin: 'mockiron-legacy',
    });
    expect(errorCatalogue['scep.unavailable'].messageKey).toBe('com.mockiron.messages.scep.unavailable');
    expect(errorCatalogue['secrets.undecryptable'].messageKey).toBe('com.mockiron.messages.secrets.undecryptable');
  });

  it('uses only known kinds, and every kind has an HTTP status and a CLI exit code', () => {
    for (const [, entry] of entries) expect(errorKinds).toContain(entry.kind);
    for (const kind of errorKinds) {
      expect(httpStatusOfKind[kind]).toBeGreaterThanOrEqual(400);
      expect(httpStatusOfKind[kind]).toBeLessThan(600);
      expect(Number.isInteger(exitCodeOfKind[kind])).toBe(true);
      expect(exitCodeOfKind[kind]).toBeGreaterThan(0);
      expect(exitCodeOfKind[kind]).toBeLessThan(126); // above are the shell's own
    }
    expect(Object.keys(httpStatusOfKind).sort()).toEqual([...errorKinds].sort());
    expect(Object.keys(exitCodeOfKind).sort()).toEqual([...errorKinds].sort());
  });

  it('tells a code from any other string', () => {
    expect(isErrorCode('vpn.duplicate')).toBe(true);
    expect(isErrorCode('vpn.nope')).toBe(false);
    expect(isErrorCode('toString')).toBe(false);
  });
});

describe('DomainError', () => {
  it('takes its kind and message key from the catalogue', () => {
    const err = new DomainError('label.system', 'iOS is a system label and cannot be changed');
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({
      name: 'DomainError',
      code: 'label.system',
      kind: 'conflict',
      messageKey: 'com.mobileiron.vsp.messages.label.system',
      message: 'iOS is a system label and cannot be changed',
    });
  });

  it('names the field of a validation error first in its message', () => {
    const err = DomainError.validation('criteria', 'a filter label needs criteria');
    expect(err.kind).toBe('validation');
    expect(err.field).toBe('criteria');
    expect(err.message).toBe('criteria: a filter label needs criteria');
    expect(DomainError.validation('', 'no field').message).toBe('no field');
  });

  it('says what was not found', () => {
    const err = DomainError.notFound('VPN configuration', 7);
    expect(err).toMatchObject({ kind: 'not-found', message: 'VPN configuration 7 not found', details: {} });
    expect(err.field).toBeUndefined();
  });
});
