// One way to declare an endpoint: the zod schemas that validate the request are the ones the
// OpenAPI document is generated from, so the document cannot drift from what is enforced.
import type { Request, Response, Router } from 'express';
import { z, type ZodType } from 'zod';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { ApiError } from './errors.js';
import type { Actor } from '../auth/actor.js';

export type Auth = 'admin' | 'public' | 'device';

export interface HandlerInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  actor: Actor;
  req: Request;
  res: Response;
}

/** A handler may return a plain object (sent as JSON, 200), or a Reply for anything else. */
export class Reply {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}

export interface RouteSpec<P extends ZodType, Q extends ZodType, B extends ZodType> {
  method: 'get' | 'post' | 'put' | 'delete';
  path: string;
  summary: string;
  tag: string;
  auth?: Auth;
  params?: P;
  query?: Q;
  body?: B;
  /** Media type of the request body when it is not JSON (e.g. text/csv). */
  bodyMediaType?: string;
  /** OpenAPI description of the 200 response's `results`. */
  results?: ZodType;
  responseMediaType?: string;
  handler: (input: HandlerInput<z.output<P>, z.output<Q>, z.output<B>>) => unknown | Promise<unknown>;
}

export function zodIssueToApiError(error: z.ZodError, where: string): ApiError {
  const issue = error.issues[0]!;
  const field = issue.path.map(String).join('.') || where;
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') message = `unknown field(s): ${issue.keys.join(', ')}`;
  return ApiError.validation(field, message);
}

function parsePart<T extends ZodType>(schema: T | undefined, value: unknown, where: string): z.output<T> {
  if (!schema) return value as z.output<T>;
  const result = schema.safeParse(value ?? (where === 'body' ? undefined : {}));
  if (!result.success) throw zodIssueToApiError(result.error, where);
  return result.data;
}

const openApiPath = (p: string) => p.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

export class RouteTable {
  constructor(
    readonly router: Router,
    readonly registry: OpenAPIRegistry,
    readonly prefix: string,
    private readonly authenticate: (auth: Auth, req: Request) => Promise<Actor>,
  ) {}

  add<P extends ZodType = ZodType, Q extends ZodType = ZodType, B extends ZodType = ZodType>(
    spec: RouteSpec<P, Q, B>,
  ): void {
    const auth = spec.auth ?? 'admin';
    this.router[spec.method](spec.path, async (req: Request, res: Response) => {
      const actor = await this.authenticate(auth, req);
      const params = parsePart(spec.params, req.params, 'path');
      const query = parsePart(spec.query, req.query, 'query');
      const body = parsePart(spec.body, req.body, 'body');
      const out = await spec.handler({ params, query, body, actor, req, res });
      if (res.headersSent) return;
      if (out instanceof Reply) {
        res.status(out.status).set(out.headers);
        if (Buffer.isBuffer(out.body) || typeof out.body === 'string') res.send(out.body);
        else if (out.body === undefined) res.end();
        else res.json(out.body);
      } else {
        res.json(out);
      }
    });
    this.document(spec, auth);
  }

  private document(spec: RouteSpec<any, any, any>, auth: Auth): void {
    const results = spec.results ?? z.unknown();
    this.registry.registerPath({
      method: spec.method,
      path: openApiPath(this.prefix + spec.path),
      summary: spec.summary,
      tags: [spec.tag],
      security: auth === 'admin' ? [{ basicAuth: [] }] : [],
      request: {
        ...(spec.params ? { params: spec.params } : {}),
        ...(spec.query ? { query: spec.query } : {}),
        ...(spec.body
          ? { body: { required: true, content: { [spec.bodyMediaType ?? 'application/json']: { schema: spec.body } } } }
          : {}),
      },
      responses: {
        200: {
          description: 'OK',
          content: spec.responseMediaType
            ? { [spec.responseMediaType]: { schema: z.string() } }
            : { 'application/json': { schema: spec.results ? z.object({ results }) : z.unknown() } },
        },
        ...(auth === 'admin' ? { 401: { description: 'Missing or bad credentials' } } : {}),
        400: { description: 'Invalid input (error envelope)' },
      },
    });
  }
}
