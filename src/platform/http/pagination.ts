// The one pagination convention (MobileIron Core v2): limit/offset/sortField/sortOrder in,
// {"totalCount","resultCount","hasMore","results"} out.
import { z } from 'zod';

export const spaceId = z.coerce
  .number()
  .int()
  .refine((n) => n === 1, 'only admin device space 1 exists')
  .optional()
  .describe('Admin device space; 1 is the only space');

export function listQuery<const F extends readonly [string, ...string[]]>(sortFields: F) {
  return z.object({
    limit: z.coerce.number().int().min(1).max(200).default(50),
    offset: z.coerce.number().int().min(0).max(1_000_000_000).default(0),
    sortField: z.enum(sortFields).optional(),
    sortOrder: z
      .string()
      .transform((s) => s.toUpperCase())
      .pipe(z.enum(['ASC', 'DESC']))
      .default('ASC'),
    adminDeviceSpaceId: spaceId,
  });
}

export interface Page {
  limit: number;
  offset: number;
}

export interface ListEnvelope<T> {
  totalCount: number;
  resultCount: number;
  hasMore: boolean;
  results: T[];
}

export function listEnvelope<T>(results: T[], totalCount: number, page: Page): ListEnvelope<T> {
  return { totalCount, resultCount: results.length, hasMore: page.offset + results.length < totalCount, results };
}

/**
 * The same envelope as JSON text, from results already serialized (a listing that keeps each
 * result's text while the result is unchanged): only the four keys are written per request.
 */
export function listEnvelopeText(results: readonly string[], totalCount: number, page: Page): string {
  const head = JSON.stringify({ totalCount, resultCount: results.length, hasMore: page.offset + results.length < totalCount });
  return `${head.slice(0, -1)},"results":[${results.join(',')}]}`;
}

/** The envelope of a complete, unpaged list (per-device results, field lists). */
export function wholeList<T>(results: T[]): ListEnvelope<T> {
  return listEnvelope(results, results.length, { limit: results.length, offset: 0 });
}

/** Pages an in-memory list the same way (for lists computed rather than queried). */
export function pageArray<T>(items: T[], page: Page): ListEnvelope<T> {
  return listEnvelope(items.slice(page.offset, page.offset + page.limit), items.length, page);
}
