// One way to declare an endpoint: the zod schemas that validate the request are the ones the
// OpenAPI document is generated from, so the document cannot drift from what is enforced. The
// statuses an operation can answer are derived here from the same spec (auth kind, path params,
// body), so the document says what the server does; a spec adds only what differs.
import type { Request, RequestHandler, Response, Router } from 'express';
import { z, type ZodType } from 'zod';
import type { OpenAPIRegistry, ResponseConfig } from '@asteasolutions/zod-to-openapi';
import { DomainError } from '../errors/index.js';
import { apiErrorFrom, errorEnvelopeSchema, type ApiError } from './errors.js';
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
  /** Media type(s) of the request body when it is not JSON (e.g. text/csv); a body of another type is refused with 415. */
  bodyMediaType?: string | readonly string[];
  /** Parsers of this route's body instead of the table's (multipart uploads, with their own limits); they too run after authentication. */
  bodyParsers?: RequestHandler[];
  /** OpenAPI description of the success response's `results`. */
  results?: ZodType;
  /** The whole success answer, when it is not a `results` envelope (Core's device-action answer). */
  answer?: ZodType;
  /** The answer is the Core list envelope {totalCount,resultCount,hasMore,results}; implied by a limit/offset query. */
  list?: boolean;
  /** Media type(s) of the success answer when it is not JSON. */
  responseMediaType?: string | readonly string[];
  /** Success status when it is not 200 (201 for a create). */
  status?: number;
  /**
   * What a GET answers that clients send back in a PUT (Core clients round-trip whole objects):
   * read-only fields are accepted when equal to the current value (read with `current`) and
   * refused with a 400 naming the first one that differs; moving values (timestamps, counts) are
   * accepted and ignored. Neither is ever written.
   */
  echoed?: {
    readOnly: readonly string[];
    ignored?: readonly string[];
    current: (input: { params: z.output<P>; actor: Actor }) => Promise<object>;
  };
  /** Error statuses beyond the derived ones (auth → 401/429, writes → 403/409, input → 400, path params → 404, body → 413/415). */
  errors?: readonly number[];
  /** A POST that only reads (a preview, a parse): viewers may call it, nothing conflicts. */
  readOnly?: boolean;
  /** Other answers: without a body (a description, e.g. 304 for a conditional GET), or with a JSON `answer` (202 with a job). */
  otherResponses?: Readonly<Record<number, string | { description: string; answer: ZodType }>>;
  handler: (input: HandlerInput<z.output<P>, z.output<Q>, z.output<B>>) => unknown | Promise<unknown>;
}

export interface RouteTableOptions {
  /**
   * Body parsers run for the routes that declare a body, after authentication: an anonymous
   * request costs no parsing, and a route without a body ignores one (so answers no 413 for it).
   * Without them the router parses every body itself (the device router's raw bodies).
   */
  bodyParsers?: RequestHandler[];
  /**
   * Handlers here also answer errors as plain text, besides the envelope. Default: a table
   * without body parsers is the device router's, whose protocol handlers answer in plain text.
   */
  textErrors?: boolean;
  /**
   * Query parameter names match the declared ones whatever their case: Core's v1 API takes
   * `Reason=` as `reason=` and `phonenumber=` as `phoneNumber=` (PowerShell clients send both).
   */
  caseInsensitiveQuery?: boolean;
}

export function zodIssueToApiError(error: z.ZodError, where: string): ApiError {
  const issue = error.issues[0]!;
  const field = issue.path.map(String).join('.') || where;
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') message = `unknown field(s): ${issue.keys.join(', ')}`;
  return apiErrorFrom(DomainError.validation(field, message));
}

function parsePart<T extends ZodType>(schema: T | undefined, value: unknown, where: string): z.output<T> {
  if (!schema) return value as z.output<T>;
  const result = schema.safeParse(value ?? (where === 'body' ? undefined : {}));
  if (!result.success) throw zodIssueToApiError(result.error, where);
  return result.data;
}

/** The query with each name spelled as the schema declares it, compared without case; an exact name wins over another spelling. */
function withDeclaredNames(query: Record<string, unknown>, schema: ZodType | undefined): Record<string, unknown> {
  const shape = (schema as { shape?: Record<string, unknown> } | undefined)?.shape;
  if (!shape) return query;
  const declared = new Map(Object.keys(shape).map((k) => [k.toLowerCase(), k]));
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(query)) {
    const name = declared.get(key.toLowerCase()) ?? key;
    // defineProperty: a `__proto__` name stays a plain key, never the object's prototype.
    if (name === key || !Object.hasOwn(out, name))
      Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function runMiddleware(handler: RequestHandler, req: Request, res: Response): Promise<void> {
  return new Promise((resolve, reject) => {
    handler(req, res, (err?: unknown) => (err ? reject(err) : resolve()));
  });
}

const openApiPath = (p: string) => p.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
const asList = (v: string | readonly string[] | undefined): string[] => (v === undefined ? [] : typeof v === 'string' ? [v] : [...v]);

/** The body less its echoed fields, once every read-only one is found equal to the current value. */
async function withoutEchoed(
  body: unknown,
  echoed: { readOnly: readonly string[]; ignored?: readonly string[] },
  current: () => Promise<object>,
): Promise<unknown> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return body;
  // No prototype: a "__proto__" key stays a plain key, for the strict schema to refuse.
  const kept = Object.create(null) as Record<string, unknown>;
  const sentReadOnly: Array<[string, unknown]> = [];
  for (const [key, value] of Object.entries(body)) {
    if (echoed.readOnly.includes(key)) sentReadOnly.push([key, value]);
    else if (!echoed.ignored?.includes(key)) kept[key] = value;
  }
  if (sentReadOnly.length > 0) {
    const now = (await current()) as Record<string, unknown>;
    for (const [key, value] of sentReadOnly) {
      if (JSON.stringify(value) !== JSON.stringify(now[key] ?? null)) {
        throw DomainError.validation(key, `is read-only: it is ${JSON.stringify(now[key] ?? null)} and cannot be changed`);
      }
    }
  }
  return kept;
}

/** Media types accepted for a declared body: JSON also as application/*+json, CSV also as text/plain. */
function acceptedBodyTypes(spec: RouteSpec<any, any, any>): string[] {
  const declared = asList(spec.bodyMediaType);
  if (declared.length === 0) declared.push('application/json');
  const accepted = new Set(declared);
  if (accepted.has('application/json')) accepted.add('application/*+json');
  if (accepted.has('text/csv')) accepted.add('text/plain');
  return [...accepted];
}

const errorDescriptions: Record<number, string> = {
  400: 'Invalid input: a parameter, query or body failed validation, or the body is malformed',
  401: 'Missing or bad credentials',
  403: "The caller's role may not do this (viewers are read-only)",
  404: 'No such object',
  409: 'Conflicts with the stored state (a duplicate, or still referenced)',
  413: 'Request body too large',
  415: 'Request body of an unsupported media type or encoding',
  429: 'Too many failed logins; retry after Retry-After seconds',
  503: 'Not available: the server is starting or stopping (retry after Retry-After seconds), or the operation needs what this server lacks (e.g. the CA key)',
};

// Text-like answers are documented as strings, the rest as binary.
const isTextual = (mediaType: string) => /^text\/|\/(xml|x-pem-file|x-plist)$|\+xml$/.test(mediaType);
const stringSchema = (mediaType: string) =>
  isTextual(mediaType) ? { type: 'string' as const } : { type: 'string' as const, format: 'binary' };

/** Registers the components every operation refers to; once per document. */
export function registerCommonComponents(registry: OpenAPIRegistry): void {
  const { $schema: _dialect, ...schema } = z.toJSONSchema(errorEnvelopeSchema, { target: 'draft-2020-12' });
  registry.registerComponent('schemas', 'ErrorEnvelope', schema as Parameters<OpenAPIRegistry['registerComponent']>[2]);
}

const errorEnvelopeRef = { $ref: '#/components/schemas/ErrorEnvelope' };

/** The error statuses of an operation: derived from its spec, plus what it declares. */
export function errorStatuses(spec: RouteSpec<any, any, any>, routerParsesBodies: boolean): number[] {
  const auth = spec.auth ?? 'admin';
  const statuses = new Set<number>(spec.errors ?? []);
  if (auth === 'admin') {
    statuses.add(401).add(429);
    // Writes are the admin role's, and any write may meet a unique or reference constraint.
    if (spec.method !== 'get' && !spec.readOnly) statuses.add(403).add(409);
  }
  if (spec.params || spec.query || spec.body) statuses.add(400);
  if (spec.params) statuses.add(404);
  if (spec.body) statuses.add(400).add(413).add(415);
  // A router that parses every body refuses a malformed, too large or wrongly encoded one on any route.
  if (routerParsesBodies) statuses.add(400).add(413).add(415);
  // Every operation: while the server starts or stops, requests are answered 503 with Retry-After.
  statuses.add(503);
  return [...statuses].sort((a, b) => a - b);
}

function isListQuery(query: ZodType | undefined): boolean {
  const shape = (query as { shape?: Record<string, unknown> } | undefined)?.shape;
  return !!shape && 'limit' in shape && 'offset' in shape;
}

export class RouteTable {
  constructor(
    readonly router: Router,
    readonly registry: OpenAPIRegistry,
    readonly prefix: string,
    private readonly authenticate: (auth: Auth, req: Request) => Promise<Actor>,
    private readonly options: RouteTableOptions = {},
  ) {}

  add<P extends ZodType = ZodType, Q extends ZodType = ZodType, B extends ZodType = ZodType>(spec: RouteSpec<P, Q, B>): void {
    const auth = spec.auth ?? 'admin';
    const parsers = spec.body ? (spec.bodyParsers ?? this.options.bodyParsers ?? []) : [];
    const accepted = acceptedBodyTypes(spec);
    this.router[spec.method](spec.path, async (req: Request, res: Response) => {
      const actor = await this.authenticate(auth, req);
      // No body at all (none, or Content-Length: 0) is for the body schema to refuse with a 400.
      const empty = req.headers['content-length'] === '0' || req.is(accepted) === null;
      if (parsers.length > 0 && !empty && req.is(accepted) === false) {
        throw new DomainError(
          'request.unsupportedMediaType',
          `Send the body as ${asList(spec.bodyMediaType).join(' or ') || 'application/json'}`,
        );
      }
      for (const parse of parsers) await runMiddleware(parse, req, res);
      const params = parsePart(spec.params, req.params, 'path');
      const query = parsePart(
        spec.query,
        this.options.caseInsensitiveQuery ? withDeclaredNames(req.query, spec.query) : req.query,
        'query',
      );
      const body = parsePart(
        spec.body,
        spec.echoed ? await withoutEchoed(req.body, spec.echoed, () => spec.echoed!.current({ params, actor })) : req.body,
        'body',
      );
      const out = await spec.handler({ params, query, body, actor, req, res });
      if (res.headersSent) return;
      if (out instanceof Reply) {
        res.status(out.status).set(out.headers);
        if (Buffer.isBuffer(out.body) || typeof out.body === 'string') res.send(out.body);
        else if (out.body === undefined) res.end();
        else res.json(out.body);
      } else {
        res.status(spec.status ?? 200).json(out);
      }
    });
    this.document(spec, auth);
  }

  private document(spec: RouteSpec<any, any, any>, auth: Auth): void {
    const bodyTypes = acceptedBodyTypes(spec).filter((t) => !t.includes('*'));
    const responses: Record<number, ResponseConfig> = {
      [spec.status ?? 200]: { description: spec.status === 201 ? 'Created' : 'OK', content: this.successContent(spec) },
    };
    for (const [status, other] of Object.entries(spec.otherResponses ?? {}))
      responses[Number(status)] =
        typeof other === 'string'
          ? { description: other }
          : { description: other.description, content: { 'application/json': { schema: other.answer } } };
    const envelope = { schema: errorEnvelopeRef };
    for (const status of errorStatuses(spec, this.options.bodyParsers === undefined)) {
      responses[status] = {
        description: errorDescriptions[status] ?? 'Error',
        content:
          (this.options.textErrors ?? this.options.bodyParsers === undefined)
            ? { 'application/json': envelope, 'text/plain': { schema: { type: 'string' } } }
            : { 'application/json': envelope },
        ...(status === 401 && auth === 'admin' ? { headers: { 'WWW-Authenticate': { schema: { type: 'string' } } } } : {}),
        ...(status === 429 || status === 503
          ? { headers: { 'Retry-After': { schema: { type: 'integer' }, description: 'Seconds until a retry may succeed' } } }
          : {}),
      };
    }
    this.registry.registerPath({
      method: spec.method,
      path: openApiPath(this.prefix + spec.path),
      summary: spec.summary,
      ...(spec.echoed
        ? {
            description:
              `What a GET answers can be sent back. Read-only fields (${spec.echoed.readOnly.join(', ')}) are accepted when unchanged, a 400 when changed` +
              (spec.echoed.ignored?.length ? `; ${spec.echoed.ignored.join(', ')} are ignored.` : '.'),
          }
        : {}),
      tags: [spec.tag],
      security: auth === 'admin' ? [{ basicAuth: [] }] : [],
      request: {
        ...(spec.params ? { params: spec.params } : {}),
        ...(spec.query ? { query: spec.query } : {}),
        ...(spec.body
          ? {
              body: {
                required: !spec.body.safeParse(undefined).success,
                content: Object.fromEntries(bodyTypes.map((t) => [t, { schema: spec.body }])),
              },
            }
          : spec.bodyMediaType
            ? {
                body: {
                  required: true,
                  content: Object.fromEntries(asList(spec.bodyMediaType).map((t) => [t, { schema: stringSchema(t) }])),
                },
              }
            : {}),
      },
      responses,
    });
  }

  private successContent(spec: RouteSpec<any, any, any>): ResponseConfig['content'] {
    const mediaTypes = asList(spec.responseMediaType);
    if (mediaTypes.length > 0) return Object.fromEntries(mediaTypes.map((t) => [t, { schema: stringSchema(t) }]));
    const list = spec.list ?? isListQuery(spec.query);
    let schema: ZodType;
    if (spec.answer) {
      schema = spec.answer;
    } else if (list) {
      const results = spec.results instanceof z.ZodArray ? spec.results : z.array(spec.results ?? z.unknown());
      schema = z.object({ totalCount: z.number().int(), resultCount: z.number().int(), hasMore: z.boolean(), results });
    } else {
      schema = z.object({ results: spec.results ?? z.unknown() });
    }
    return { 'application/json': { schema } };
  }
}
