// CLI: `mockiron devices import FILE --server URL`, a client of POST /api/v2/devices/bulk. Only
// the definition is here: the action loads ./cli-import.js when it runs, so `mockiron --help`
// does not load it.
import type { Command } from 'commander';
import type { ImportOptions } from './cli-import.js';
import type { CliIo } from '../platform/cli/io.js';

export function registerDevicesCommands(program: Command, io: CliIo): void {
  const devices = program.command('devices').description('devices on a running mockiron server');
  devices
    .command('import')
    .description(
      'register the devices of a CSV file (header userId,platform,ownership,serialNumber,udid,imei,model,osVersion,deviceName,labels): ' +
        'streams it to POST /api/v2/devices/bulk, follows the import job with a progress bar, and prints the CSV rows refused (all rows or none)',
    )
    .argument('<file>', 'the CSV file')
    .requiredOption('--server <url>', 'mockiron base URL, e.g. http://localhost:8080')
    .option('--user <user>', 'admin user', 'admin')
    .option('--password-file <file>', 'file holding the admin password (default: env MOCKIRON_ADMIN_PASSWORD)')
    .action(async (file: string, options: ImportOptions) => (await import('./cli-import.js')).runImport(file, options, io));
}
