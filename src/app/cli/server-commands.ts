import type { Command } from 'commander';
import { loadConfig } from '../../platform/config.js';
import type { RunningServer } from '../server.js';
import { CliError } from '../../platform/cli/errors.js';
import type { CliIo } from '../../platform/cli/io.js';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

export function registerServerCommands(program: Command, io: CliIo): void {
  program
    .command('serve')
    .description('start the mockiron server (what `npm start` runs)')
    .option('--port <port>', 'port to listen on (env MOCKIRON_PORT, default 8080)')
    .option('--host <host>', 'address to bind (env MOCKIRON_HOST, default 0.0.0.0)')
    .option('--data-dir <dir>', 'data directory (env MOCKIRON_DATA_DIR, default ./data)')
    .option('--public-url <url>', 'public base URL devices use (env MOCKIRON_PUBLIC_URL)')
    .option('--log-level <level>', 'log level (env MOCKIRON_LOG_LEVEL, default info)')
    .option(
      '--key-type <type>',
      'key type of the signing identity created on first start: rsa (RSA-2048) or ec (P-256) (env MOCKIRON_KEY_TYPE)',
    )
    .option('--tls', 'serve HTTPS with a certificate issued by the mockiron CA for the public host name (env MOCKIRON_TLS=1)')
    .option(
      '--scep-allow-des',
      'SCEP also accepts single DES-CBC (56-bit, weak) from clients that use nothing else (env MOCKIRON_SCEP_ALLOW_DES=1)',
    )
    .option(
      '--enroll-unknown-devices',
      'MachineInfo enrollment (POST /mdm/enroll) also enrolls devices no record knows by serial number or UDID (env MOCKIRON_ENROLL_UNKNOWN_DEVICES=1)',
    )
    .option(
      '--install-profile-unsigned',
      'InstallProfile carries profiles as plain XML instead of CMS-signed (env MOCKIRON_INSTALL_PROFILE_UNSIGNED=1)',
    )
    .option(
      '--apns-environment <env>',
      "APNs host pushes go to once a push certificate is uploaded: production or development (Apple's sandbox) (env MOCKIRON_APNS_ENVIRONMENT, default production)",
    )
    .option('--apns-url <url>', 'another APNs host (an https origin), e.g. a stand-in for tests (env MOCKIRON_APNS_URL)')
    .action(
      async (opts: {
        port?: string;
        host?: string;
        dataDir?: string;
        publicUrl?: string;
        logLevel?: string;
        keyType?: string;
        tls?: boolean;
        scepAllowDes?: boolean;
        enrollUnknownDevices?: boolean;
        installProfileUnsigned?: boolean;
        apnsEnvironment?: string;
        apnsUrl?: string;
      }) => {
        let config;
        try {
          config = loadConfig(opts, io.env);
        } catch (err) {
          throw new CliError((err as Error).message, 2);
        }
        // Loaded here, not at the top, as the server below: `mockiron --help` needs no logger (pino).
        const { createLogger } = await import('../../platform/logger.js');
        const logger = createLogger(config.logLevel);
        // Signals are handled from the start: one arriving while the server starts lets it finish
        // starting (no half-applied migration), then stops it the same way.
        // eslint-disable-next-line prefer-const -- assigned once started; the signal handler reads it before
        let running: RunningServer | undefined;
        let stopRequested = false;
        const shutDown = (server: RunningServer) =>
          server.close().then(
            () => process.exit(0),
            (err) => {
              logger.error({ err }, 'error during shutdown');
              process.exit(1);
            },
          );
        const stop = (signal: string) => {
          if (stopRequested) return;
          stopRequested = true;
          logger.info({ signal }, 'shutting down');
          if (running) void shutDown(running);
        };
        process.on('SIGINT', () => stop('SIGINT'));
        process.on('SIGTERM', () => stop('SIGTERM'));
        // Loaded here, not at the top: `mockiron --help` and the QA commands need none of it.
        const { startServer } = await import('../server.js');
        running = await startServer(config, logger);
        if (stopRequested) void shutDown(running);
      },
    );

  const db = program.command('db').description('database maintenance');
  db.command('migrate')
    .description('apply pending migrations to the data dir database')
    .option('--data-dir <dir>', 'data directory (env MOCKIRON_DATA_DIR, default ./data)')
    .action(async (opts: { dataDir?: string }) => {
      const config = loadConfig(opts, io.env);
      mkdirSync(path.dirname(config.dbFile), { recursive: true, mode: 0o700 });
      const { applyMigrations } = await import('../../platform/db/schema-engine.js');
      const applied = await applyMigrations(config.dbFile);
      io.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
    });
}
