// CLI: `mockiron apns csr`, the first step of Apple's vendor-signed MDM push certificate flow
// (docs/real-devices.md). Only the definition is here: the action loads ./cli-actions.js (crypto)
// when it runs, so `mockiron --help` does not load it.
import type { Command } from 'commander';
import type { CsrOptions } from './cli-actions.js';
import type { CliIo } from '../platform/cli/io.js';

export function registerApnsCommands(program: Command, io: CliIo): void {
  const apns = program.command('apns').description('the MDM push certificate (APNs)');
  apns
    .command('csr')
    .description(
      "make the private key and certificate signing request for an MDM push certificate: an MDM vendor signs the CSR, you upload the signed request at Apple's Push Certificates Portal, then upload Apple's certificate and this key with PUT /api/v2/apns/certificate",
    )
    .requiredOption('-d, --out-dir <dir>', 'where to write push.key (mode 0600) and push.csr (PEM)')
    .option('--common-name <name>', 'subject CN of the request', 'mockiron MDM push')
    .option('--email <address>', 'subject emailAddress (the Apple ID that will own the certificate)')
    .option('--organization <name>', 'subject O')
    .option('--country <code>', 'subject C (two letters)')
    .option('--force', 'replace push.key and push.csr if they exist')
    .action(async (options: CsrOptions) => (await import('./cli-actions.js')).runCsr(options, io));
}
