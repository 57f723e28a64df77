// Core's status page, GET /status/status.html, which monitoring scripts and load balancers read
// without credentials: line 0 "MOBILEIRON-STATUS: OK" (the text they look for), line 1 empty,
// line 2 a message (MICore.PSHelper's Get-MICore reads lines 0 and 2). Lines end in \n alone:
// Windows PowerShell splits on either of \r and \n, so \r\n would put an empty line at index 2.
// While the server starts or stops the request gate answers 503 before this page is reached.
import type { Db } from '../platform/db/client.js';
import type { RouteTable } from '../platform/http/route.js';

export interface Health {
  ok: boolean;
  message: string;
}

export function statusPageText(health: Health): string {
  return `MOBILEIRON-STATUS: ${health.ok ? 'OK' : 'ERROR'}\n\n${health.message}\n`;
}

/** Whether the database answers: one trivial query. */
export async function databaseHealth(db: Db): Promise<Health> {
  try {
    await db.$queryRawUnsafe('SELECT 1');
    return { ok: true, message: 'mockiron is running; the database answers' };
  } catch {
    return { ok: false, message: 'the database does not answer' };
  }
}

export function registerStatusPage(t: RouteTable, db: Db): void {
  t.add({
    method: 'get',
    path: '/status/status.html',
    tag: 'System',
    auth: 'public',
    // Answered 200 either way: clients tell "the page says not OK" (CRITICAL) from "no page" by the status.
    summary: "Core's status page for monitors: MOBILEIRON-STATUS: OK, or ERROR when the database does not answer (no credentials needed)",
    responseMediaType: 'text/plain',
    handler: async ({ res }) => {
      res
        .status(200)
        .type('text/plain; charset=utf-8')
        .set('Cache-Control', 'no-store')
        .send(statusPageText(await databaseHealth(db)));
    },
  });
}
