// CLI: `profile sign`, `profile verify`, and the `signing` group (init, show, import).
// Only the definitions are here: each action loads ./cli-actions.js (crypto, PKCS#12) when it
// runs, so `mockiron --help` does not load them.

import { type Command, Option } from 'commander';
import type { ImportOptions, SignOptions, VerifyOptions } from './cli-actions.js';
import type { CliIo } from '../platform/cli/io.js';

export const PASSPHRASE_ENV = 'MOCKIRON_P12_PASSPHRASE';

function dataDirOption(): Option {
  return new Option('--data-dir <dir>', 'data directory holding signing/').env('MOCKIRON_DATA_DIR').default('./data');
}

/** Shared with `profile build --sign`: what the signature's signingTime attribute says. */
export function signingTimeOption(): Option {
  return new Option(
    '--signing-time <iso|none>',
    'signing time to sign with (ISO 8601), or "none" to leave it out; default: $SOURCE_DATE_EPOCH when set, else now. Pinned, the same input signs to the same bytes (RSA)',
  );
}

function findOrCreateGroup(program: Command, name: string, description: string): Command {
  return program.commands.find((c) => c.name() === name) ?? program.command(name).description(description);
}

export function registerSigningCommands(program: Command, io: CliIo): void {
  const profile = findOrCreateGroup(program, 'profile', 'configuration profile commands');

  profile
    .command('sign')
    .description('sign a configuration profile (CMS SignedData, DER)')
    .argument('<in>', 'profile to sign (.mobileconfig plist)')
    .option('-o, --output <file>', 'where to write the signed profile; - for standard output')
    // the old spelling, kept for scripts written against it
    .addOption(new Option('--out <file>').hideHelp())
    .option('--detached', 'leave the content out of the signature (detached CMS)')
    .addOption(signingTimeOption())
    .option('--key <pem>', 'signer private key (instead of the data directory identity)')
    .option('--cert <pem>', 'signer certificate, with --key')
    .option('--chain <pem>', 'issuing CA certificates, with --key (the last is the trust anchor)')
    .addOption(dataDirOption())
    .action(async (input: string, options: SignOptions) => (await import('./cli-actions.js')).runSign(input, options, io));

  profile
    .command('verify')
    .description('verify a signed profile: signature, signer validity and chain of trust')
    .argument('<file>', 'signed profile (DER CMS)')
    .option('--ca <pem>', 'trust anchor certificate(s); default: the data directory CA when there is one')
    .option('--system-roots', "also trust Node's bundled public root CAs")
    .option('--content <file>', 'the signed content, for detached signatures')
    .option('--at <date>', 'judge certificate validity at this time (ISO 8601) instead of now')
    .option('-o, --output <file>', 'write the verified content here; - for standard output (the report then goes to standard error)')
    .addOption(new Option('--out <file>').hideHelp())
    .option('--json', 'print the result as JSON')
    .addOption(dataDirOption())
    .action(async (file: string, options: VerifyOptions) => (await import('./cli-actions.js')).runVerify(file, options, io));

  const signing = findOrCreateGroup(program, 'signing', 'manage the profile signing identity (CA and signer)');

  signing
    .command('init')
    .description('create a signing CA and a profile signer certificate')
    .addOption(new Option('--key-type <type>', 'key type for CA and signer').choices(['rsa', 'ec']).default('rsa'))
    .option('--force', 'replace an existing identity')
    .addOption(dataDirOption())
    .action(async (options: { keyType: 'rsa' | 'ec'; force?: boolean; dataDir: string }) =>
      (await import('./cli-actions.js')).runInit(options, io),
    );

  signing
    .command('show')
    .description('show the signing identity: subjects, validity and SHA-256 fingerprints')
    .option('--json', 'print as JSON')
    .addOption(dataDirOption())
    .action(async (options: { json?: boolean; dataDir: string }) => (await import('./cli-actions.js')).runShow(options, io));

  signing
    .command('import')
    .description(
      `replace the signing identity with your own key and certificate (PEM files, or a PKCS#12 file whose passphrase comes from --passphrase-file or ${PASSPHRASE_ENV})`,
    )
    .option('--key <pem>', 'private key (PEM)')
    .option('--cert <pem>', 'signer certificate (PEM)')
    .option('--chain <pem>', 'issuing CA certificates (PEM); the last one becomes the trust anchor')
    .option('--p12 <file>', 'PKCS#12 file with key, certificate and chain')
    .option('--passphrase-file <file>', `file holding the PKCS#12 passphrase (or set ${PASSPHRASE_ENV})`)
    .addOption(dataDirOption())
    .action(async (options: ImportOptions) => (await import('./cli-actions.js')).runImport(options, io));
}
