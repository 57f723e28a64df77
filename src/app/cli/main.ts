import { Command, CommanderError } from 'commander';
import { registerAnyconnectCommands } from '../../anyconnect/cli.js';
import { registerProfilesCommands } from '../../profiles/cli.js';
import { registerSigningCommands } from '../../signing/cli.js';
import { registerSimulatorCommands } from '../../simulator/cli.js';
import { CliError } from '../../platform/cli/errors.js';
import { registerServerCommands } from './server-commands.js';

const program = new Command('mockiron')
  .description('mockiron: a mock MobileIron-style MDM server and per-app VPN profile toolkit')
  .showHelpAfterError()
  .exitOverride();

registerServerCommands(program);
registerProfilesCommands(program);
registerSigningCommands(program);
registerAnyconnectCommands(program);
registerSimulatorCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // help and version are "errors" to commander; their exit code is 0
    process.exitCode = err.exitCode;
  } else if (err instanceof CliError) {
    process.stderr.write(`mockiron: ${err.message}\n`);
    process.exitCode = err.exitCode;
  } else {
    process.stderr.write(`mockiron: unexpected error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
