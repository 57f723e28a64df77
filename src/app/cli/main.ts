import { Command, CommanderError } from 'commander';
import { registerAnyconnectCommands } from '../../anyconnect/cli.js';
import { registerProfilesCommands } from '../../profiles/cli.js';
import { registerSigningCommands } from '../../signing/cli.js';
import { registerSimulatorCommands } from '../../simulator/cli.js';
import { asCliError } from '../../platform/cli/errors.js';
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
  } else {
    // a CliError or a domain error is the user's to fix: its message; anything else is a bug
    const failure = asCliError(err);
    if (failure) process.stderr.write(`mockiron: ${failure.message}\n`);
    else process.stderr.write(`mockiron: unexpected error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = failure?.exitCode ?? 1;
  }
}
