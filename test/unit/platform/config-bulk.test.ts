// The bulk import's bounds from the environment (MOCKIRON_BULK_MAX_BYTES, _MAX_ROWS,
// _INLINE_ROWS): unset means the importer's defaults; anything but a positive integer stops the
// start with a message naming the variable.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/platform/config.js';

describe('bulkImport', () => {
  it('is empty by default (the defaults of src/devices/bulk.ts apply) and reads positive integers', () => {
    expect(loadConfig({}, {}).bulkImport).toEqual({ maxBytes: undefined, maxRows: undefined, inlineRows: undefined });
    expect(
      loadConfig({}, { MOCKIRON_BULK_MAX_BYTES: '1048576', MOCKIRON_BULK_MAX_ROWS: '5000', MOCKIRON_BULK_INLINE_ROWS: '10' }).bulkImport,
    ).toEqual({ maxBytes: 1_048_576, maxRows: 5000, inlineRows: 10 });
  });

  it('refuses anything else, naming the variable', () => {
    for (const value of ['0', '-1', '1.5', 'lots', '1e400']) {
      expect(() => loadConfig({}, { MOCKIRON_BULK_MAX_ROWS: value })).toThrow(
        `invalid MOCKIRON_BULK_MAX_ROWS: ${value} (a positive integer)`,
      );
    }
  });
});
