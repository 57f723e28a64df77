// The CSV import's inline answer, in slices that yield to the event loop (see src/lib/slices.ts):
// 10,000 devices answered never keep every other request waiting.
import type { Response } from 'express';
import { yieldToEventLoop } from '../lib/slices.js';

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
