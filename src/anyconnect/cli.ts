/**
 * CLI for the AnyConnect per-app VPN model:
 *   mockiron perapp encode RULES.yaml|-          prints the Base64 blob
 *   mockiron perapp decode BLOB|FILE|-           prints the rules as YAML (or --json / --xml)
 *   mockiron perapp check --policy RULES.yaml|BLOB --app APPID [--platform iOS] [--app-version V]
 *   mockiron asa render CONFIG.yaml              prints ASA CLI
 *   mockiron asa parse FILE|-                    prints the config as YAML (or --json)
 *   mockiron anyconnect simulate CONFIG.yaml --session SESSION.yaml --app APPID [--client-cert PEM --ca-cert PEM --crl CRL]
 * Exit codes: 0 success / permitted / tunneled; 3 denied / not tunneled (check, simulate);
 * 1 bad input (the message names the file line, rule or config path).
 * Only the definitions are here: each action loads ./cli-actions.js (YAML, zod, the codecs) when
 * it runs, so `mockiron --help` does not load them.
 */
import type { Command } from 'commander';
import type { PerappCheckOptions, SimulateSessionOptions } from './cli-actions.js';
import type { CliIo } from '../platform/cli/io.js';
import { COMPRESSIONS } from '../lib/anyconnect/types.js';

/** Exit code for "the app is denied / not tunneled": distinct from 1 (bad input) so scripts can tell them apart. */
export const EXIT_DENIED = 3;

export function registerAnyconnectCommands(program: Command, io: CliIo): void {
  const perapp = program.command('perapp').description('AnyConnect PerApp policies: encode, decode and check (mockiron mock blob format)');

  perapp
    .command('encode')
    .description("validate a rules YAML and print the Base64 perapp blob (zlib; mockiron's own pre-compression format)")
    .argument('<rules>', 'rules YAML/JSON file, or - for stdin')
    .option('--compression <kind>', `one of ${COMPRESSIONS.join(', ')}`, 'zlib')
    .action(async (rulesArg: string, opts: { compression: string }) =>
      (await import('./cli-actions.js')).runPerappEncode(rulesArg, opts, io),
    );

  perapp
    .command('decode')
    .description('decode a perapp blob (zlib, gzip or raw deflate; line breaks allowed) and print its rules')
    .argument('<blob>', 'the Base64 blob, a file holding it, or - for stdin')
    .option('--json', 'print JSON instead of YAML')
    .option('--xml', 'print the decompressed mock XML document')
    .action(async (blobArg: string, opts: { json?: boolean; xml?: boolean }) =>
      (await import('./cli-actions.js')).runPerappDecode(blobArg, opts, io),
    );

  perapp
    .command('check')
    .description(`is an app permitted by a PerApp policy? exit 0 permitted, ${EXIT_DENIED} denied, 1 bad input`)
    .requiredOption('--policy <policy>', 'rules YAML file, a file holding a blob, - for stdin, or the blob itself')
    .requiredOption('--app <appId>', 'the app ID (bundle ID / package name)')
    .option('--platform <platform>', 'iOS or Android', 'iOS')
    .option('--app-version <version>', 'the app version (Android minVersion rules)')
    .option('--certificate-id <hex>', 'the app signing-certificate ID (Android certificateId rules)')
    .option('--json', 'print the decision as JSON')
    .action(async (opts: PerappCheckOptions) => (await import('./cli-actions.js')).runPerappCheck(opts, io));

  const asa = program.command('asa').description('Cisco ASA head-end CLI for per-app VPN (render and parse)');

  asa
    .command('render')
    .description('render a head-end config YAML as ASA CLI (perapp data split into lines of at most 420 characters)')
    .argument('<config>', 'head-end config YAML/JSON, or - for stdin')
    .action(async (configArg: string) => (await import('./cli-actions.js')).runAsaRender(configArg, io));

  asa
    .command('parse')
    .description('read ASA CLI (as rendered by asa render) back into a head-end config')
    .argument('<file>', 'ASA CLI text file, or - for stdin')
    .option('--json', 'print JSON instead of YAML')
    .action(async (fileArg: string, opts: { json?: boolean }) => (await import('./cli-actions.js')).runAsaParse(fileArg, opts, io));

  const anyconnect = program.command('anyconnect').description('AnyConnect session simulation against a head-end config');

  anyconnect
    .command('simulate')
    .description(`resolve a session (DAP, precedence) and decide whether an app tunnels; exit 0 tunneled, ${EXIT_DENIED} not tunneled`)
    .argument('<config>', 'head-end config YAML/JSON')
    .requiredOption('--session <file>', 'session YAML: tunnelGroup, aaa, endpoint and/or device, mdmBindings')
    .option(
      '--spec <file>',
      "profile spec (as for profile build): its apps are the MDM bindings and its VPN configuration's group the tunnel group",
    )
    .requiredOption('--app <appId>', 'the app ID')
    .option('--platform <platform>', 'iOS or Android (default: from the session)')
    .option('--app-version <version>', 'the app version')
    .option('--certificate-id <hex>', 'the app signing-certificate ID')
    .option('--client-cert <file>', 'PEM of the client certificate the session presents (tunnel groups with certificate authentication)')
    .option('--ca-cert <file>', "PEM of mockiron's CA (GET /api/v2/signing/ca.pem), for trustpoints standing for it")
    .option('--crl <file>', "mockiron's CRL, DER or PEM (GET /api/v2/scep/crl), for revocation-check crl")
    .option('--json', 'print the full decision as JSON')
    .action(async (configArg: string, opts: SimulateSessionOptions) =>
      (await import('./cli-actions.js')).runAnyconnectSimulate(configArg, opts, io),
    );
}
