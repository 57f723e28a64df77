// The streaming CSV reader of the bulk import (src/lib/csv/reader.ts) against csv-parse
// (github.com/adaltas/node-csv, packages/csv-parse), the parser the import used before and an
// independent reading of RFC 4180: the same records from the same text, whatever the chunking,
// and refusal of what csv-parse refuses. Seeded pseudo-random inputs, so a failure reproduces.
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { CsvReader, CsvSyntaxError } from '../../../src/lib/csv/reader.js';

function random(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

const reference = (text: string): string[][] =>
  parse(text, { skip_empty_lines: true, trim: true, bom: true, relax_column_count: true }) as string[][];

function read(text: string, chunkSizes: (i: number) => number, max?: number): string[][] {
  const reader = new CsvReader(max);
  const out: string[][] = [];
  for (let i = 0, n = 0; i < text.length; n++) {
    const size = Math.max(1, chunkSizes(n));
    reader.push(text.slice(i, i + size), out);
    i += size;
  }
  reader.end(out);
  return out;
}

const pieces = ['a', 'B7', 'é', '\u{1F4F1}', ' ', '\t', ',', '"', '\n', '\r\n', 'x y', ';'];

/** A field as a CSV writer would put it: quoted when it holds a comma, quote or line break (or at random). */
function encode(value: string, rnd: (n: number) => number): string {
  const pad = () => [' ', '\t', ''][rnd(3)]!;
  const needsQuotes = /[",\r\n]/.test(value) || value !== value.trim() || rnd(4) === 0;
  return pad() + (needsQuotes ? `"${value.replaceAll('"', '""')}"` : value) + pad();
}

describe('CsvReader', () => {
  it('reads what a CSV writer wrote exactly as csv-parse does, in any chunking', () => {
    const rnd = random(18);
    for (let round = 0; round < 400; round++) {
      const records = Array.from({ length: 1 + rnd(6) }, () =>
        Array.from({ length: 1 + rnd(5) }, () => Array.from({ length: rnd(5) }, () => pieces[rnd(pieces.length)]).join('')),
      );
      const text =
        (rnd(3) === 0 ? '\uFEFF' : '') +
        records.map((r) => r.map((v) => encode(v, rnd)).join(',')).join(rnd(2) ? '\r\n' : '\n') +
        ['', '\n', '\r\n'][rnd(3)];
      const expected = reference(text);
      for (const chunk of [() => text.length, () => 1, () => 1 + rnd(7)]) expect(read(text, chunk), JSON.stringify(text)).toEqual(expected);
    }
  });

  it('agrees with csv-parse on arbitrary text: the same records, or both refuse it', () => {
    const rnd = random(19);
    let refused = 0;
    for (let round = 0; round < 3000; round++) {
      const text = Array.from({ length: rnd(14) }, () => pieces[rnd(pieces.length)]).join('');
      // One known difference: csv-parse's trim also eats a line break that follows blanks at the
      // end of a field ("a, \nb" is one record to it); a line break ends a record (RFC 4180 §2).
      if (/,[ \t]+\r?\n/.test(text)) continue;
      // Another: csv-parse takes the first line break it sees as the only one (a bare LF in a
      // CRLF file is then data); the reader takes LF and CRLF alike, as files mixing them need.
      if (text.includes('\r\n') && /(^|[^\r])\n/.test(text)) continue;
      let expected: string[][] | 'refused';
      try {
        expected = reference(text);
      } catch {
        expected = 'refused';
      }
      let actual: string[][] | 'refused';
      try {
        actual = read(text, () => 1 + rnd(4));
      } catch (err) {
        expect(err).toBeInstanceOf(CsvSyntaxError);
        actual = 'refused';
      }
      if (expected === 'refused') refused++;
      expect(actual, JSON.stringify(text)).toEqual(expected);
    }
    expect(refused).toBeGreaterThan(100);
  });

  it('refuses a record longer than its bound, as a size problem, before the line ends', () => {
    const reader = new CsvReader(100);
    const out: string[][] = [];
    reader.push('a,b\n', out);
    expect(() => reader.push('x'.repeat(101), out)).toThrow(expect.objectContaining({ tooLong: true, line: 2 }));
    expect(() => read(`"${'q'.repeat(200)}`, () => 10, 100)).toThrow(expect.objectContaining({ tooLong: true }));
    expect(read(`${'y'.repeat(100)}\n`, () => 7, 100)).toEqual([['y'.repeat(100)]]);
  });

  it('names the physical line of a syntax error, counting line breaks inside quotes', () => {
    expect(() => read('h1,h2\n"multi\nline",x\nab"c,d\n', () => 5)).toThrow('line 4: a quote inside an unquoted field');
    expect(() => read('h\n"open\n', () => 3)).toThrow(/^line 2: a quoted field is not closed/);
  });
});
