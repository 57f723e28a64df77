import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { registerAnyconnectCommands } from '../../anyconnect/cli.js';
import { registerProfilesCommands } from '../../profiles/cli.js';
import { registerSigningCommands } from '../../signing/cli.js';
import { registerSimulatorCommands } from '../../simulator/cli.js';
import { registerApnsCommands } from '../../mdm/cli.js';
import { asCliError, CliExit } from '../../platform/cli/errors.js';
import type { CliIo, CliOutput } from '../../platform/cli/io.js';
import { registerServerCommands } from './server-commands.js';

export type { CliIo } from '../../platform/cli/io.js';

/** The real process: what bin/mockiron.js runs the CLI with. */
export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, readStdin: () => readFileSync(0, 'utf8'), env: process.env };
}

/** Commander's own rule: the terminal's width, else 80. */
function helpWidth(out: CliOutput): number {
  return (out.isTTY ? out.columns : undefined) ?? 80;
}

/**
 * Commander reads an option's `.env()` variable from process.env; the commands read io.env, so
 * before an action runs, the options that name a variable take it from io.env instead.
 */
function applyIoEnv(command: Command, io: CliIo): void {
  for (let c: Command | null = command; c; c = c.parent) {
    for (const option of c.options) {
      if (!option.envVar) continue;
      const key = option.attributeName();
      const source = c.getOptionValueSource(key);
      if (source !== undefined && source !== 'default' && source !== 'env') continue; // given on the command line
      const value = io.env[option.envVar];
      if (value !== undefined) c.setOptionValueWithSource(key, option.required || option.optional ? value : true, 'env');
      else if (source === 'env') c.setOptionValueWithSource(key, option.defaultValue, 'default');
    }
  }
}

/** A fresh program per run: commander keeps parsed values on its commands. */
function buildProgram(io: CliIo): Command {
  // Output and exit behaviour first: subcommands copy them when they are created.
  const program = new Command('mockiron')
    .description('mockiron: a mock MobileIron-style MDM server and per-app VPN profile toolkit')
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      getOutHelpWidth: () => helpWidth(io.stdout),
      getErrHelpWidth: () => helpWidth(io.stderr),
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    })
    .showHelpAfterError()
    .exitOverride();

  registerServerCommands(program, io);
  registerProfilesCommands(program, io);
  registerSigningCommands(program, io);
  registerAnyconnectCommands(program, io);
  registerSimulatorCommands(program, io);
  registerApnsCommands(program, io);
  program.hook('preAction', (_program, action) => applyIoEnv(action, io));
  return program;
}

/**
 * Runs one mockiron command line (argv without node and the script: `['profile', 'build', …]`)
 * and returns its exit code. Writes only through io and never exits the process; `serve` and
 * `simulate` still answer signals while they run.
 */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    await buildProgram(io).parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    // help and version are "errors" to commander; their exit code is 0
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof CliExit) return err.exitCode;
    // a CliError or a domain error is the user's to fix: its message; anything else is a bug
    const failure = asCliError(err);
    if (failure) {
      io.stderr.write(`mockiron: ${failure.message}\n`);
      return failure.exitCode;
    }
    io.stderr.write(`mockiron: unexpected error: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

// `npx tsx src/app/cli/main.ts …` runs the sources directly (bin/mockiron.js runs dist/).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await run(process.argv.slice(2), processIo());
}
