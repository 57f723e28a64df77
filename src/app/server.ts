// Starts mockiron: database (migrated), signing identity, first admin, services and app, all
// before listening when the port is known (with port 0, the app after); a gate in front answers
// 503 until ready and while stopping. Graceful stop: 503 for new requests, those in flight
// finish (bounded), connections closed, then background work and the database.
import { readFileSync } from 'node:fs';
import http, { type RequestListener, type Server } from 'node:http';
import https from 'node:https';
import net, { type AddressInfo, type Socket } from 'node:net';
import type { Config } from '../platform/config.js';
import { openDatabase } from '../platform/db/client.js';
import { invitationStore } from '../enrollment/store.js';
import { accessLog } from '../platform/http/access-log.js';
import { createApp } from './http-app.js';
import { RequestGate } from '../platform/http/request-gate.js';
import type { Logger } from '../platform/logger.js';
import { loadOrCreateInstallation } from '../platform/installation.js';
import { buildServices, type Services } from './services.js';
import { SigningService } from '../signing/service.js';
import { tlsMaterialFor, type TlsMaterial } from './tls.js';
import { version } from '../platform/version.js';

export interface RunningServer {
  server: Server;
  services: Services;
  url: string;
  close(): Promise<void>;
}

/** Everything but the listener: used by the server and by tests (supertest on the app). */
export async function bootstrap(config: Config, logger: Logger, announce: (line: string) => void = () => {}) {
  const services = await prepare(await openState(config, logger), config, logger, announce);
  return { app: startApp(services, config, logger), services };
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
    // The part of a migration SQL cannot do (SQLite has no SHA-256): invitation tokens an older
    // version stored in clear are hashed before anything is served.
    const hashedInvitationTokens = await db.$transaction((tx) => invitationStore.hashClearTokens(tx));
    if (hashedInvitationTokens) {
      // The clear values still sit in freed pages of the file and in the WAL: rewrite both.
      await db.$executeRawUnsafe('VACUUM');
      await db.$queryRawUnsafe('PRAGMA wal_checkpoint(TRUNCATE)');
      logger.info({ hashedInvitationTokens }, 'hashed invitation tokens stored in clear by an older version');
    }
    const { service: signing, created: signingCreated } = await SigningService.open(config.dataDir, config.keyType);
    if (signingCreated)
      logger.info(
        { keyType: config.keyType, subject: signing.identity.certificate.subject },
        'created the profile-signing CA and certificate',
      );
    const { namespace } = loadOrCreateInstallation(config.dataDir);
    return { db, changes, signing, namespace };
  } catch (err) {
    await db.$disconnect();
    throw err;
  }
}

function servicesFor(state: OpenedState, config: Config, logger: Logger, publicUrl: string) {
  const { db, changes, signing, namespace } = state;
  return buildServices({
    db,
    changes,
    logger,
    dataDir: config.dataDir,
    publicUrl,
    signing,
    namespace,
    clientCertHeader: config.clientCertHeader,
    scepAllowDes: config.scepAllowDes,
    enrollUnknownDevices: config.enrollUnknownDevices,
    installProfileUnsigned: config.installProfileUnsigned,
    apns: { url: config.apnsUrl, ca: config.apnsCaFile ? readFileSync(config.apnsCaFile, 'utf8') : undefined },
    bulkImport: config.bulkImport,
  });
}

/** Which push provider is active, said once at start (docs/real-devices.md). */
function announcePushProvider(services: Services, config: Config, logger: Logger): void {
  const identity = services.pushCertificates.current();
  if (identity) logger.info({ provider: 'apns', url: config.apnsUrl, topic: identity.topic }, 'push provider: APNs (pushes are sent)');
  else logger.info({ provider: 'recording' }, 'push provider: recording only (no push certificate: pushes are recorded, not sent)');
}

/** Services with the first admin and seeded data (database work only: the URL plays no part). */
async function prepare(state: OpenedState, config: Config, logger: Logger, announce: (line: string) => void) {
  const services = servicesFor(state, config, logger, config.publicUrl);
  const first = await services.admins.ensureInitialAdmin(config.adminUser, config.adminPassword);
  if (first.created) {
    logger.info({ username: config.adminUser }, 'created the first admin user');
    // Printed once, outside the structured log, so it never lands in log storage.
    if (first.generatedPassword) {
      announce(
        `\nmockiron: first admin "${config.adminUser}" created with generated password: ${first.generatedPassword}\n` +
          'mockiron: it is shown only this once; only its hash is stored.\n\n',
      );
    }
  }
  await services.init();
  announcePushProvider(services, config, logger);
  return services;
}

/** Starts the background work and builds the app. */
function startApp(services: Services, config: Config, logger: Logger) {
  services.mdm.start();
  return createApp({ services, logger, bodyLimit: config.bodyLimit, credentialCacheMs: config.credentialCacheMs, version });
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
  const announce = (line: string) => process.stdout.write(line);
  const state = await openState(config, logger);
  let services: Services | undefined;
  let app: RequestListener | undefined;
  const abandon = async (err: unknown): Promise<never> => {
    services?.mdm.stop();
    await state.db.$disconnect();
    throw err;
  };
  // The public URL (in enrollment profiles, SCEP and MDM URLs) carries the port. When it is
  // known now (a fixed port, or a given public URL), the whole app is built before listening:
  // a client is refused until it can be answered for real. Only with port 0 and no public URL
  // must the server listen first to learn its port, and answer 503 while it builds the rest.
  const publicUrlKnown = !(config.publicUrlFromPort && config.port === 0);
  let tlsMaterial: TlsMaterial | undefined;
  try {
    // --tls: the certificate must be there for the first handshake. It needs only the CA and
    // the public host name (not the port).
    if (config.tls) tlsMaterial = tlsMaterialFor(config.dataDir, state.signing, config.publicUrl);
    // The database work (first admin, seeding; its first queries are slow to plan) is done
    // here in any case; with port 0 these services only serve that, and are built anew below.
    const prepared = await prepare(state, config, logger, announce);
    if (publicUrlKnown) {
      services = prepared;
      app = startApp(services, config, logger);
    }
  } catch (err) {
    return abandon(err);
  }
  // The handler is attached before listening: until the app is built (and once stopping) the
  // gate answers 503 at once, so no request sent during start-up or shutdown waits for nothing.
  const gate = new RequestGate(accessLog(logger));
  if (app) gate.open(app);
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
    return abandon(err);
  }
  const port = (server.address() as AddressInfo).port;
  const url = `${scheme}://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}`;
  const publicUrl = publicUrlKnown ? config.publicUrl : `${scheme}://localhost:${port}`;
  if (!services) {
    logger.info({ address: url }, 'port open; answering 503 until ready');
    try {
      services = servicesFor(state, config, logger, publicUrl);
      // Idempotent and quick by now; run again so these services start as the others do.
      await services.init();
      // Building the app takes a while (route schemas): requests waiting for a 503 get it first.
      await new Promise((resolve) => setImmediate(resolve));
      app = startApp(services, config, logger);
    } catch (err) {
      server.close();
      for (const socket of sockets) socket.destroy();
      return abandon(err);
    }
    gate.open(app);
  }
  logger.info({ url, publicUrl, dataDir: config.dataDir, version }, 'mockiron listening');

  const graceMs = options.shutdownGraceMs ?? defaultShutdownGraceMs;
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      // New requests get 503 from here on; those in flight may finish, within the grace period.
      const cut = await gate.stop(graceMs);
      if (cut) logger.warn({ requests: cut, graceMs }, 'requests still in flight after the grace period; closing their connections');
      // Connections waiting in the listen backlog would be reset by the close: accept them first.
      await acceptPending(() => accepted);
      // Stop listening with net.Server's close: http.Server's also destroys every connection
      // without a request in progress, including one accepted a moment ago whose request is on
      // its way (its client would see a reset, not a 503). A request still arriving on an open
      // connection gets its 503 and Connection: close; what is left after a short wait (idle
      // keep-alive connections, requests past the grace period) is closed.
      const closed = new Promise<void>((resolve) => net.Server.prototype.close.call(server, () => resolve()));
      logger.info({ openConnections: sockets.size }, 'no longer listening');
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
