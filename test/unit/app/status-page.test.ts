// The status page's text and its database probe. Losing the database cannot be staged through
// the real client (Prisma reconnects on the next query), so the probe is given a client whose
// query fails, as a lost SQLite file or a broken driver makes it fail.
import { describe, expect, it } from 'vitest';
import { databaseHealth, statusPageText } from '../../../src/app/status-page.js';
import type { Db } from '../../../src/platform/db/client.js';

const answering = { $queryRawUnsafe: async () => [{ 1: 1 }] } as unknown as Db;
const failing = {
  $queryRawUnsafe: async () => {
    throw new Error('SQLITE_CANTOPEN: unable to open database file');
  },
} as unknown as Db;

describe('status page', () => {
  it('says OK on line 0, nothing on line 1 and a message on line 2 when the database answers', async () => {
    const lines = statusPageText(await databaseHealth(answering)).split('\n');
    expect(lines.slice(0, 2)).toEqual(['MOBILEIRON-STATUS: OK', '']);
    expect(lines[2]).toMatch(/database answers/);
  });

  it('says ERROR, and why, when the database does not answer; nothing of the driver error is shown', async () => {
    const text = statusPageText(await databaseHealth(failing));
    expect(text).not.toContain('MOBILEIRON-STATUS: OK');
    expect(text.split('\n')[0]).toBe('MOBILEIRON-STATUS: ERROR');
    expect(text.split('\n')[2]).toMatch(/database does not answer/);
    expect(text).not.toContain('SQLITE');
  });
});
