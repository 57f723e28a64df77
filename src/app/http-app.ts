// Assembles the express app: body parsing with limits, the admin API under /api/v2, the
// OpenAPI document and docs page, and the one error handler.
import { SecretBoxError } from '../platform/secrets/box.js';
import express, { type NextFunction, type Request, type Response } from 'express';
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import swaggerUi from 'swagger-ui-express';
import { z } from 'zod';
import { anonymous, type Actor } from '../platform/auth/actor.js';
import type { Logger } from '../platform/logger.js';
import type { Services } from './services.js';
import { accessLog, noteSubject } from '../platform/http/access-log.js';
import { BasicAuthenticator } from '../platform/http/basic-auth.js';
import { deviceBodyParser } from '../platform/http/device-body.js';
import { DomainError } from '../platform/errors/index.js';
import { ApiError, apiErrorFrom, envelope } from '../platform/http/errors.js';
import { RouteTable, registerCommonComponents, type Auth } from '../platform/http/route.js';
import { apiRouteModules, deviceRouteModules, v1RouteModules } from './routes.js';
import { registerStatusPage } from './status-page.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

function rejectNonUtf8(_req: Request, _res: Response, buf: Buffer): void {
  try {
    utf8.decode(buf);
  } catch {
    throw new DomainError('request.notUtf8', 'Request body is not valid UTF-8');
  }
}

export interface AppOptions {
  services: Services;
  logger: Logger;
  bodyLimit: number;
  /** Device messages carry profiles and certificates; still bounded. */
  deviceBodyLimit?: number;
  credentialCacheMs: number;
  version: string;
}

export function createApp(opts: AppOptions) {
  const { services, logger } = opts;
  const app = express();
  app.use(accessLog(logger));
  app.disable('x-powered-by');
  app.set('etag', false);

  const basic = new BasicAuthenticator(services.admins, logger, opts.credentialCacheMs);
  services.admins.onChange = () => basic.invalidate();
  const authenticate = async (auth: Auth, req: Request): Promise<Actor> => {
    if (auth === 'public') return anonymous;
    if (auth === 'admin') {
      const actor = await basic.authenticate(req);
      noteSubject(req, `admin:${actor.username}`);
      return actor;
    }
    // Device-authenticated endpoints do their own checks (Mdm-Signature) in their handlers.
    return anonymous;
  };

  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'basicAuth', { type: 'http', scheme: 'basic' });
  registerCommonComponents(registry);

  // Admin API bodies are parsed per route, after authentication, only where a route takes one.
  const jsonBodies = express.json({
    limit: opts.bodyLimit,
    strict: false,
    verify: rejectNonUtf8,
    type: ['application/json', 'application/*+json'],
  });
  const textBodies = express.text({ limit: opts.bodyLimit, verify: rejectNonUtf8, type: ['text/plain'] });
  const api = express.Router();
  const table = new RouteTable(api, registry, '/api/v2', authenticate, { bodyParsers: [jsonBodies, textBodies] });

  table.add({
    method: 'get',
    path: '/ping',
    tag: 'System',
    summary: 'API version (MobileIron Core compatible)',
    auth: 'admin',
    results: z.object({ apiVersion: z.number(), vspVersion: z.string() }),
    handler: () => ({ results: { apiVersion: 2.0, vspVersion: `mockiron ${opts.version}` } }),
  });
  for (const register of apiRouteModules) register(table, services);

  const v1 = express.Router();
  const v1Table = new RouteTable(v1, registry, '/api/v1', authenticate, { bodyParsers: [jsonBodies], caseInsensitiveQuery: true });
  for (const register of v1RouteModules) register(v1Table, services);

  // Device-facing protocol endpoints (/ota, /scep, /mdm): raw bodies, each handler
  // authenticates the device itself (CMS signatures, challenges, Mdm-Signature).
  const device = express.Router();
  device.use(deviceBodyParser(opts.deviceBodyLimit));
  const deviceTable = new RouteTable(device, registry, '', authenticate);
  for (const register of deviceRouteModules) register(deviceTable, services);
  registerStatusPage(deviceTable, services.db);

  let openApiDoc: object | undefined;
  const document = () =>
    (openApiDoc ??= new OpenApiGeneratorV31(registry.definitions).generateDocument({
      openapi: '3.1.0',
      info: {
        title: 'mockiron API',
        version: opts.version,
        description:
          'A mock MobileIron Core-style MDM API. Paths follow MobileIron Core v2 where known; VPN configurations, policy, AnyConnect and signing endpoints are mockiron extensions in the same style.',
      },
      servers: [{ url: '/' }],
    }));
  app.get('/api/v2/openapi.json', (_req, res) => {
    res.json(document());
  });
  app.use('/api/v2/docs', swaggerUi.serve, swaggerUi.setup(undefined, { swaggerOptions: { url: '/api/v2/openapi.json' } }));
  app.use('/api/v2', api);
  // MobileIron Connected Cloud serves the same v2 API under /rest/api/v2; clients written for it
  // (the Axonius adapter, the npm `mobileiron` client) keep that prefix, some after a tenant
  // segment (`https://xx.mobileiron.net/company/rest`, the npm client's README).
  app.use('/rest/api/v2', api);
  app.use(/^\/[A-Za-z0-9_-]{1,64}\/rest\/api\/v2(?=\/|$)/, api);
  app.use('/api/v1', v1);
  app.use(device);

  app.use((req: Request, _res: Response, next: NextFunction) => {
    next(new DomainError('request.noSuchEndpoint', `No such endpoint: ${req.method} ${req.path}`));
  });

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const apiError = toApiError(err);
    if (apiError.status >= 500) logger.error({ err, method: req.method, path: req.path }, 'request failed');
    if (apiError.status === 401) res.set('WWW-Authenticate', 'Basic realm="mockiron", charset="UTF-8"');
    // A refused request whose body is still arriving (an anonymous upload): close rather than drain it.
    if (!req.complete) res.set('Connection', 'close');
    if (apiError.status === 429 && typeof apiError.extra.retryAfterSeconds === 'number')
      res.set('Retry-After', String(apiError.extra.retryAfterSeconds));
    const body = envelope(apiError);
    // Core v1 clients read the reason as messages.message (PowerShell collects it from each message).
    if (req.originalUrl.startsWith('/api/v1/')) for (const m of body.messages) m.message = m.localizedMessage;
    res.status(apiError.status).json(body);
  });

  return app;
}

/**
 * Maps anything thrown to the one envelope: domain errors by their kind, known library failures
 * (body parser, Prisma, the secret box) by their catalogue entries. Nothing internal (stack, SQL)
 * reaches the client.
 */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof DomainError) return apiErrorFrom(err);
  const e = err as { type?: string; status?: number; code?: string; meta?: { target?: unknown } };
  if (e?.type === 'entity.parse.failed') return apiErrorFrom(new DomainError('request.malformedJson', 'Malformed JSON body'));
  if (e?.type === 'entity.too.large') return apiErrorFrom(new DomainError('request.tooLarge', 'Request body too large'));
  if (e?.type === 'charset.unsupported' || e?.type === 'encoding.unsupported')
    return apiErrorFrom(new DomainError('request.unsupportedMediaType', 'Unsupported body encoding'));
  if (e?.code === 'P2002') return apiErrorFrom(new DomainError('resource.duplicate', 'A record with the same unique value already exists'));
  if (e?.code === 'P2003') return apiErrorFrom(new DomainError('resource.referenced', 'The record is referenced by others'));
  if (e?.code === 'P2025') return apiErrorFrom(new DomainError('resource.notFound', 'Record not found'));
  // The operator's problem (a data directory's key replaced), said plainly; no secret is in it.
  if (err instanceof SecretBoxError) return apiErrorFrom(new DomainError('secrets.undecryptable', err.message));
  // Any other 4xx of the body parser keeps its status, under Core's key for that status.
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500)
    return new ApiError(e.status, `com.mobileiron.vsp.messages.http.${e.status}`, 'Bad request');
  return apiErrorFrom(new DomainError('server.internal', 'Internal server error'));
}
