// POST /api/v2/devices/bulk (the CSV read as a stream, not through the 1 MB body parser) and
// GET /api/v2/devices/bulk/{jobId}. Registered by registerDeviceRoutes, before the /devices/{uuid}
// routes, so the document keeps its order.
import { createGunzip, createInflate } from 'node:zlib';
import type { Request } from 'express';
import { z } from 'zod';
import { spaceId, wholeList } from '../platform/http/pagination.js';
import { DomainError } from '../platform/errors/index.js';
import type { RouteTable } from '../platform/http/route.js';
import { csvColumns } from './bulk-rows.js';
import { importedSummaries, maxRowMessages, type DeviceImporter } from './bulk.js';
import { sendJsonInSlices } from './slices.js';

const csvTypes = ['text/csv', 'text/plain'];

const importJob = z.object({
  id: z.string().describe('The job id (a UUID)'),
  state: z.enum(['queued', 'running', 'succeeded', 'failed']),
  phase: z.enum(['reading', 'checking', 'writing', 'done']).describe('reading the body, checking references and conflicts, writing, done'),
  rowsRead: z.number().int(),
  rowsWritten: z.number().int().describe('0 again once a job failed: nothing stays written'),
  errorCount: z.number().int(),
  errors: z
    .array(z.object({ row: z.number().int(), field: z.string(), message: z.string() }))
    .describe(`Row problems, the first ${maxRowMessages} (errorCount counts them all); row 1 is the header`),
  message: z.string().nullable().describe('Why the job failed'),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});

const deviceFieldsResult = z.record(z.string(), z.unknown()).describe('Flat object keyed by MobileIron field names');

/** The body as bytes, its Content-Encoding undone (the caps count what comes out). */
async function* bodyBytes(req: Request): AsyncGenerator<Buffer> {
  const encoding = String(req.headers['content-encoding'] ?? 'identity').toLowerCase();
  const source =
    encoding === 'identity'
      ? req
      : encoding === 'gzip' || encoding === 'x-gzip'
        ? req.pipe(createGunzip())
        : encoding === 'deflate'
          ? req.pipe(createInflate())
          : undefined;
  if (!source) throw new DomainError('request.unsupportedMediaType', `Unsupported body encoding ${encoding.slice(0, 32)}`);
  try {
    for await (const chunk of source) yield chunk as Buffer;
  } catch (err) {
    if (err instanceof DomainError) throw err;
    const code = (err as { code?: string }).code ?? '';
    throw DomainError.validation('body', code.startsWith('Z_') ? `the ${encoding} data is corrupt` : 'the body ended early');
  }
}

export function registerBulkImportRoutes(t: RouteTable, imports: DeviceImporter): void {
  const tag = 'Devices';
  const { limits } = imports;
  t.add({
    method: 'post',
    status: 201,
    path: '/devices/bulk',
    tag,
    bodyMediaType: 'text/csv',
    summary:
      `Register devices from CSV (header ${csvColumns.join(',')}); all rows or none. The body is read as a stream: at most ` +
      `${limits.maxBytes} bytes and ${limits.maxRows} rows (413 as soon as either is crossed). Up to ${limits.inlineRows} rows answer ` +
      '201 with the devices; larger files, or ?async=true, or Prefer: respond-async, answer 202 with a job (GET /devices/bulk/{jobId})',
    query: z.object({
      adminDeviceSpaceId: spaceId,
      async: z.enum(['true', 'false']).optional().describe('true: answer 202 with a job whatever the size'),
    }),
    results: z.array(deviceFieldsResult),
    list: true,
    errors: [400, 413, 415],
    otherResponses: {
      202: {
        description: 'Accepted: the import continues as a job (Location: its URL); a job that failed on reading says so at once',
        answer: z.object({ results: importJob }),
      },
    },
    handler: async ({ actor, query, req, res }) => {
      const declared = req.headers['content-length'];
      const empty = declared === '0' || req.is(csvTypes) === null;
      if (!empty && req.is(csvTypes) === false) throw new DomainError('request.unsupportedMediaType', 'Send the CSV as text/csv');
      const job = imports.open(actor, declared === undefined ? undefined : Number(declared));
      const preferAsync = /(^|[,;\s])respond-async([,;\s]|$)/i.test(String(req.headers.prefer ?? ''));
      const { inline } = await imports.read(job, bodyBytes(req), { async: query.async === 'true' || preferAsync });
      if (inline) {
        await job.finished;
        const failure = job.error();
        if (failure) throw failure;
        const devices = job.devices ?? [];
        job.devices = undefined;
        // Up to the inline limit: serialized in slices rather than in one JSON.stringify.
        await sendJsonInSlices(res, 201, wholeList(await importedSummaries(devices)));
        return;
      }
      res.status(202).set('Location', `${req.baseUrl}/devices/bulk/${job.id}`);
      if (preferAsync) res.set('Preference-Applied', 'respond-async');
      res.json({ results: job.view() });
    },
  });
  t.add({
    method: 'get',
    path: '/devices/bulk/:jobId',
    tag,
    summary: `A bulk import job: state, rows read and written, row errors; the last ${limits.keptJobs} finished jobs are kept (in memory)`,
    params: z.object({
      jobId: z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'must be an import job id (a UUID)'),
    }),
    results: importJob,
    handler: ({ actor, params }) => ({ results: imports.view(actor, params.jobId) }),
  });
}
