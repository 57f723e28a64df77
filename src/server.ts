// Starts mockiron: database (migrated), services, first admin, HTTP listener, graceful stop.
import http, { type Server } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Config } from './config.js';
import { openDatabase } from './db/client.js';
import { createApp } from './http/app.js';
import type { Logger } from './logger.js';
import { loadOrCreateInstallation } from './installation.js';
import { buildServices, type Services } from './services.js';
import { SigningService } from './signing/service.js';
import { tlsMaterialFor } from './tls.js';
import { version } from './version.js';

export interface RunningServer {
  server: Server;
  services: Services;
  url: string;
  close(): Promise<void>;
}

/** Everything but the listener: used by the server and by tests (supertest on the app). */
export async function bootstrap(config: Config, logger: Logger, announce: (line: string) => void = () => {}) {
  const { db, applied, changes } = await openDatabase(config.dbFile);
  if (applied.length) logger.info({ migrations: applied }, 'applied database migrations');
  const { service: signing, created: signingCreated } = await SigningService.open(config.dataDir, config.keyType);
  if (signingCreated) logger.info({ keyType: config.keyType, subject: signing.identity.certificate.subject }, 'created the profile-signing CA and certificate');
  const { namespace } = loadOrCreateInstallation(config.dataDir);
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

export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  // Listen first: with port 0 the public URL (in enrollment profiles, SCEP and MDM URLs) must
  // carry the port the system chose. Requests wait for the app, attached once it is built.
  const server: Server = config.tls ? https.createServer() : http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const scheme = config.tls ? 'https' : 'http';
  const publicUrl = config.publicUrlFromPort ? `${scheme}://localhost:${port}` : config.publicUrl;
  let built;
  try {
    built = await bootstrap({ ...config, publicUrl }, logger, (line) => process.stdout.write(line));
  } catch (err) {
    server.close();
    throw err;
  }
  const { app, services } = built;
  if (config.tls) (server as https.Server).setSecureContext(tlsMaterialFor(config.dataDir, services.signing, publicUrl));
  server.on('request', app);
  const url = `${scheme}://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}`;
  logger.info({ url, publicUrl, dataDir: config.dataDir, version }, 'mockiron listening');
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      services.mdm.stop();
      await services.db.$disconnect();
    })());
  return { server, services, url, close };
}
