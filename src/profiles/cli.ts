import { Option, type Command } from 'commander';
import type { BuildOptions } from './cli-build.js';
import type { OutputFormat } from './cli-files.js';
import type { LintCliOptions } from './cli-read.js';
import type { CliIo } from '../platform/cli/io.js';

// `mockiron profile …`: QA tooling for profiles — build from spec files, inspect, lint.
// Signing commands live in src/signing. Only the definitions are here: each action loads
// its module (cli-build.js, cli-read.js) when it runs, so `mockiron --help` does not load the
// profile toolchain.

function formatOption(): Option {
  return new Option('--format <format>', 'output format').choices(['xml', 'json']).default('xml');
}

export function registerProfilesCommands(program: Command, io: CliIo): void {
  const profile = program.command('profile').description('build, inspect and lint iOS configuration profiles');

  profile
    .command('build')
    .description('build a profile from a spec file (YAML/JSON), or every spec in a directory')
    .argument('<spec>', 'spec file, or a directory of spec files')
    .option('-o, --output <path>', 'output file (default: stdout), or output directory when building a directory')
    .addOption(formatOption())
    .option('--namespace <uuid>', "UUID namespace for PayloadUUIDs (overrides the spec's)")
    .option('--sign', 'sign the profile (DER CMS) with the data directory identity, or --key/--cert/--chain')
    .option('--data-dir <dir>', 'data directory holding the signing identity (env MOCKIRON_DATA_DIR)', io.env.MOCKIRON_DATA_DIR ?? './data')
    .option('--key <pem>', 'signer private key, with --sign')
    .option('--cert <pem>', 'signer certificate, with --key')
    .option('--chain <pem>', 'issuing CA certificates, with --key')
    .option(
      '--signing-time <iso|none>',
      'with --sign: signing time (ISO 8601), or "none" to leave it out; default: $SOURCE_DATE_EPOCH when set, else now',
    )
    .action(async (spec: string, opts: BuildOptions) => (await import('./cli-build.js')).runBuild(spec, opts, io));

  profile
    .command('app-commands')
    .description(
      "the app side of per-app VPN from a spec's apps: InstallApplication and Settings (ApplicationAttributes) commands with Attributes.VPNUUID, checked against Apple's command schemas",
    )
    .argument('<spec>', 'spec file (YAML/JSON) with an apps: section')
    .addOption(formatOption())
    .action(async (spec: string, opts: { format: OutputFormat }) => (await import('./cli-apps.js')).runAppCommands(spec, opts, io));

  profile
    .command('inspect')
    .description('print a profile (signed or unsigned) as XML or JSON; signatures are not verified')
    .argument('<file>', '.mobileconfig file: XML or binary plist, optionally CMS-signed')
    .addOption(formatOption())
    .action(async (file: string, opts: { format: OutputFormat }) => (await import('./cli-read.js')).runInspect(file, opts, io));

  profile
    .command('lint')
    .description("check profiles against Apple's device-management schemas; exits non-zero on errors")
    .argument('<files...>', '.mobileconfig files (signed or not)')
    .option('--ios <version>', 'target iOS version: report keys introduced later')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(async (files: string[], opts: LintCliOptions) => (await import('./cli-read.js')).runLint(files, opts, io));
}
