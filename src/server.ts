// Starts mockiron: HTTP listener (answering 503 until ready), database (migrated), services,
// first admin, graceful stop (503 for new requests, in-flight ones finish, bounded).
import http, { type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import https from 'node:https';
import net, { type AddressInfo, type Socket } from 'node:net';
import type { Config } from './config.js';
import { openDatabase } from './db/client.js';
import { accessLog, type AccessLogMiddleware } from './http/access-log.js';
import { createApp } from './http/app.js';
import { ApiError, envelope } from './http/errors.js';
import type { Logger } from './logger.js';
import { loadOrCreateInstallation } from './installation.js';
import { buildServices, type Services } from './services.js';
import { SigningService } from './signing/service.js';
import { tlsMaterialFor, type TlsMaterial } from './tls.js';
import { version } from './version.js';

export interface RunningServer {
  server: Server;
  services: Services;
  url: string;
  close(): Promise<void>;
}

/** Everything but the listener: used by the server and by tests (supertest on the app). */
export async function bootstrap(config: Config, logger: Logger, announce: (line: string) => void = () => {}) {
  return assemble(await openState(config, logger), config, logger, announce);
}

type OpenedState = Awaited<ReturnType<typeof openState>>;

/**
 * The slow part of start-up, which blocks the event loop for a while (migrations in the WASM
 * schema engine, key generation on first start: 0.1-0.5 s each, seconds on a busy machine).
 * The server does it before listening: a client meanwhile is refused at once rather than left
 * connected to a process that cannot answer. None of it depends on the port.
 */
async function openState(config: Config, logger: Logger) {
  const { db, applied, changes } = await openDatabase(config.dbFile);
  try {
    if (applied.length) logger.info({ migrations: applied }, 'applied database migrations');
    const { service: signing, created: signingCreated } = await SigningService.open(config.dataDir, config.keyType);
    if (signingCreated) logger.info({ keyType: config.keyType, subject: signing.identity.certificate.subject }, 'created the profile-signing CA and certificate');
    const { namespace } = loadOrCreateInstallation(config.dataDir);
    return { db, changes, signing, namespace };
  } catch (err) {
    await db.$disconnect();
    throw err;
  }
}

/** The rest, which needs the public URL (with port 0, known once listening). */
async function assemble(state: OpenedState, config: Config, logger: Logger, announce: (line: string) => void) {
  const { db, changes, signing, namespace } = state;
  const services = buildServices({ db, changes, logger, dataDir: config.dataDir, publicUrl: config.publicUrl, signing, namespace, clientCertHeader: config.clientCertHeader });
  const first = await services.admins.ensureInitialAdmin(config.adminUser, config.adminPassword);
  if (first.created) {
    logger.info({ username: config.adminUser }, 'created the first admin user');
    // Printed once, outside the structured log, so it never lands in log storage.
    if (first.generatedPassword) {
      announce(`\nmockiron: first admin "${config.adminUser}" created with generated password: ${first.generatedPassword}\n` +
        'mockiron: it is shown only this once; only its hash is stored.\n\n');
    }
  }
  await services.init();
  services.mdm.start();
  const app = createApp({ services, logger, bodyLimit: config.bodyLimit, credentialCacheMs: config.credentialCacheMs, version });
  return { app, services };
}

export interface StartOptions {
  /** Once stopping, how long requests in flight may take to finish before their connections are cut, ms. */
  shutdownGraceMs?: number;
}

const defaultShutdownGraceMs = 5_000;
/** Once not listening, how long open connections may still bring a request (answered 503). */
const lingerMs = 250;

export async function startServer(config: Config, logger: Logger, options: StartOptions = {}): Promise<RunningServer> {
  const scheme = config.tls ? 'https' : 'http';
  const state = await openState(config, logger);
  // --tls: the certificate must be there for the first handshake. It needs only the CA and the
  // public host name (not the port), so it is made before listening.
  let tlsMaterial: TlsMaterial | undefined;
  try {
    if (config.tls) tlsMaterial = tlsMaterialFor(config.dataDir, state.signing, config.publicUrl);
  } catch (err) {
    await state.db.$disconnect();
    throw err;
  }
  // The handler is attached before listening: until the app is built (and once stopping) the
  // gate answers 503 at once, so no request sent during start-up or shutdown waits for nothing.
  const gate = new RequestGate(accessLog(logger));
  const server: Server = config.tls ? https.createServer(tlsMaterial!, gate.handle) : http.createServer(gate.handle);
  // Every connection, including TLS ones still in their handshake (which the HTTP server does
  // not count yet), so a stop can close them all.
  const sockets = new Set<Socket>();
  let accepted = 0;
  server.on('connection', (socket: Socket) => {
    accepted++;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await state.db.$disconnect();
    throw err;
  }
  // With port 0 the public URL (in enrollment profiles, SCEP and MDM URLs) must carry the port
  // the system chose: it is known only now.
  const port = (server.address() as AddressInfo).port;
  const url = `${scheme}://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}`;
  const publicUrl = config.publicUrlFromPort ? `${scheme}://localhost:${port}` : config.publicUrl;
  logger.info({ address: url }, 'port open; answering 503 until ready');
  let built;
  try {
    built = await assemble(state, { ...config, publicUrl }, logger, (line) => process.stdout.write(line));
  } catch (err) {
    server.close();
    for (const socket of sockets) socket.destroy();
    await state.db.$disconnect();
    throw err;
  }
  const { app, services } = built;
  gate.open(app);
  logger.info({ url, publicUrl, dataDir: config.dataDir, version }, 'mockiron listening');

  const graceMs = options.shutdownGraceMs ?? defaultShutdownGraceMs;
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      // New requests get 503 from here on; those in flight may finish, within the grace period.
      const cut = await gate.stop(graceMs);
      if (cut) logger.warn({ requests: cut, graceMs }, 'requests still in flight after the grace period; closing their connections');
      // Stop listening with net.Server's close: http.Server's also destroys every connection
      // without a request in progress, including one accepted a moment ago whose request is on
      // its way (its client would see a reset, not a 503). A request still arriving on an open
      // connection gets its 503 and Connection: close; what is left after a short wait (idle
      // keep-alive connections, requests past the grace period) is closed.
      // Connections waiting in the listen backlog would be reset by the close: accept them first.
      await acceptPending(() => accepted);
      const closed = new Promise<void>((resolve) => net.Server.prototype.close.call(server, () => resolve()));
      await Promise.race([closed, delay(lingerMs)]);
      for (const socket of sockets) socket.destroy();
      await closed;
      services.mdm.stop();
      await services.db.$disconnect();
      logger.info('mockiron stopped');
    })());
  return { server, services, url, close };
}

/**
 * Turns the event loop (each turn's poll phase accepts what waits in the listen backlog) until
 * two turns in a row bring no new connection, so closing the listener resets none that the
 * system had already accepted (a busy moment can leave several waiting).
 */
async function acceptPending(acceptedSoFar: () => number): Promise<void> {
  let quietTurns = 0;
  for (let turn = 0; turn < 20 && quietTurns < 2; turn++) {
    const before = acceptedSoFar();
    await new Promise((resolve) => setImmediate(resolve));
    quietTurns = acceptedSoFar() === before ? quietTurns + 1 : 0;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Stands in front of the app: answers 503 (Retry-After: 1, Connection: close, the error
 * envelope) until the app is ready and once stopping, and counts the requests in flight so a
 * stop can wait for them.
 */
class RequestGate {
  private app: RequestListener | undefined;
  private stopping = false;
  private readonly inFlight = new Set<ServerResponse>();
  private onDrained: (() => void) | undefined;

  constructor(private readonly log: AccessLogMiddleware) {}

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const app = this.app;
    if (!app || this.stopping) {
      this.log(req, res, () => unavailable(req, res, this.stopping ? 'mockiron is shutting down' : 'mockiron is starting'));
      return;
    }
    this.inFlight.add(res);
    res.once('close', () => {
      this.inFlight.delete(res);
      if (this.inFlight.size === 0) this.onDrained?.();
    });
    app(req, res);
  };

  open(app: RequestListener): void {
    this.app = app;
  }

  /** Stops passing requests to the app; resolves once those in flight are done, or after graceMs with how many are not. */
  stop(graceMs: number): Promise<number> {
    this.stopping = true;
    // Answers still to come end their connection, so no client reuses one about to be closed.
    for (const res of this.inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
    if (this.inFlight.size === 0) return Promise.resolve(0);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(this.inFlight.size), graceMs);
      this.onDrained = () => {
        clearTimeout(timer);
        resolve(0);
      };
    });
  }
}

function unavailable(req: IncomingMessage, res: ServerResponse, message: string): void {
  // The body is not wanted; read and drop it so closing the connection does not reset it
  // before the client has read the answer.
  req.resume();
  const body = JSON.stringify(envelope(new ApiError(503, 'com.mobileiron.vsp.messages.http.503', message)));
  res.writeHead(503, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Retry-After': '1',
    Connection: 'close',
  });
  res.end(body);
}
