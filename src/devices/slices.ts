// The CSV import's parsing and its answer, in slices that yield to the event loop (see
// src/lib/slices.ts): a 10,000-row import never keeps every other request waiting.
import { Parser as CsvParser } from 'csv-parse';
import type { Response } from 'express';
import { DomainError } from '../platform/errors/index.js';
import { yieldToEventLoop } from '../lib/slices.js';

export interface CsvLimits {
  maxRows: number;
  maxBytes: number;
  /** Checks the header; throws a DomainError to refuse it. Returns the column names. */
  header: (names: string[]) => string[];
}

/** Characters handed to the parser between two yields (about a millisecond of parsing). */
const charsPerSlice = 8 * 1024;

/**
 * Parses CSV text with a header row into records, in slices. Refuses more than `maxBytes` before
 * any parsing, and stops as soon as the row count passes `maxRows`.
 */
export async function parseCsvInSlices(csv: string, limits: CsvLimits): Promise<Record<string, string>[]> {
  if (Buffer.byteLength(csv) > limits.maxBytes) {
    throw new DomainError('device.csvTooLarge', `CSV is larger than ${limits.maxBytes} bytes; split it`);
  }
  const records: Record<string, string>[] = [];
  let headerError: unknown;
  let failure: Error | undefined;
  const parser = new CsvParser({
    columns: (names: string[]) => {
      try {
        return limits.header(names.map((c) => c.trim()));
      } catch (err) {
        headerError = err;
        throw err;
      }
    },
    skip_empty_lines: true,
    trim: true,
    bom: true,
    max_record_size: 64 * 1024,
  });
  const done = new Promise<void>((resolve) => {
    parser.on('end', resolve);
    parser.on('close', resolve);
    parser.on('error', (err: Error) => {
      failure ??= err;
      resolve();
    });
  });
  parser.on('data', (record: Record<string, string>) => records.push(record));

  const tooMany = () => new DomainError('device.csv', `CSV has more than ${limits.maxRows} rows; split it`);
  for (let offset = 0; offset < csv.length && !failure;) {
    let end = Math.min(offset + charsPerSlice, csv.length);
    // Never split a surrogate pair: the parser would see two broken characters.
    const last = csv.charCodeAt(end - 1);
    if (end < csv.length && last >= 0xd800 && last <= 0xdbff) end--;
    parser.write(csv.slice(offset, end));
    offset = end;
    await yieldToEventLoop();
    if (records.length > limits.maxRows) {
      parser.destroy();
      throw tooMany();
    }
  }
  if (!failure) parser.end();
  await done;
  if (headerError !== undefined) throw headerError;
  if (failure) throw new DomainError('device.csv', `CSV could not be parsed: ${failure.message}`);
  if (records.length > limits.maxRows) throw tooMany();
  return records;
}

/**
 * Sends `envelope` as JSON with its `results` array serialized a slice at a time: one
 * JSON.stringify of 10,000 devices (4 MB) would hold the event loop for tens of milliseconds.
 * Waits for the socket to drain between slices, and stops if the client goes away.
 */
export async function sendJsonInSlices(res: Response, status: number, envelope: { results: unknown[] }, sliceSize = 200): Promise<void> {
  const { results, ...head } = envelope;
  const headJson = JSON.stringify(head);
  res.status(status).type('application/json; charset=utf-8');
  let gone = false;
  res.once('close', () => (gone = true));
  const write = async (chunk: string) => {
    if (gone || res.write(chunk)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
  };
  await write(`${headJson.slice(0, -1)}${headJson.length > 2 ? ',' : ''}"results":[`);
  for (let i = 0; i < results.length && !gone; i += sliceSize) {
    const part = results
      .slice(i, i + sliceSize)
      .map((r) => JSON.stringify(r))
      .join(',');
    await write(i === 0 ? part : `,${part}`);
    await yieldToEventLoop();
  }
  res.end(']}');
}
