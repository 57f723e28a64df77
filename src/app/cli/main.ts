import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { registerAnyconnectCommands } from '../../anyconnect/cli.js';
import { registerProfilesCommands } from '../../profiles/cli.js';
import { registerSigningCommands } from '../../signing/cli.js';
import { registerSimulatorCommands } from '../../simulator/cli.js';
import { registerApnsCommands } from '../../mdm/cli.js';
import { registerDevicesCommands } from '../../devices/cli.js';
import { asCliError, CliError, CliExit } from '../../platform/cli/errors.js';
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

// Read here rather than through platform/version.js: `mockiron --help` loads only definitions.
// The same relative path holds from src/app/cli/ and dist/app/cli/.
const VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Commander's own errors that mean "the command line is wrong": exit 2, as getopt-style tools do. */
const USAGE_ERRORS = new Set([
  'commander.unknownOption',
  'commander.unknownCommand',
  'commander.missingArgument',
  'commander.optionMissingArgument',
  'commander.missingMandatoryOptionValue',
  'commander.invalidArgument',
  'commander.excessArguments',
  'commander.conflictingOption',
  'commander.help', // a command group without its subcommand
]);

/** The exit codes every command shares; `mockiron help exit-codes` prints them. */
export const EXIT_CODES: ReadonlyArray<readonly [number, string]> = [
  [0, 'success; `perapp check`: permitted; `anyconnect simulate`: tunneled; help and --version'],
  [1, 'failure: bad input file or spec, a failed verification or lint, an unexpected error'],
  [2, 'usage: unknown command or option, missing argument, invalid option value; a server answer: invalid request'],
  [3, '`perapp check`: denied; `anyconnect simulate`: not tunneled; a server answer: not found'],
  [4, 'a server answer: conflict'],
  [5, 'a server answer: not authenticated or not allowed'],
  [6, 'a server answer: too many requests or unavailable'],
  [7, '`profile verify`: the input is not signed at all (an unsigned plist)'],
  [130, '`serve` and `simulate` stopped by Ctrl-C (SIGINT)'],
];

function exitCodesText(): string {
  return `mockiron exit codes:\n${EXIT_CODES.map(([code, meaning]) => `  ${String(code).padStart(3)}  ${meaning}`).join('\n')}\n`;
}

/**
 * Standard output as the commands see it: the process's, or — for `-o FILE` on a command that
 * only prints — a buffer written to FILE when the command is done, so a failed run leaves no file.
 */
class SwitchableStdout {
  private buffer: Buffer[] | undefined;
  constructor(private readonly target: CliIo['stdout']) {}
  get isTTY(): boolean | undefined {
    return this.buffer ? false : this.target.isTTY;
  }
  get columns(): number | undefined {
    return this.target.columns;
  }
  write(chunk: string | Uint8Array): unknown {
    if (!this.buffer) return this.target.write(chunk);
    this.buffer.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk));
    return true;
  }
  capture(): void {
    this.buffer = [];
  }
  /** Writes what was captured to `path` (via a temporary sibling and a rename). */
  flushTo(path: string): void {
    const bytes = Buffer.concat(this.buffer ?? []);
    this.buffer = undefined;
    const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
    try {
      writeFileSync(tmp, bytes);
      renameSync(tmp, path);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw new CliError(`${path}: cannot write (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
  }
}

/** Commands with their own -o, or none that makes sense (a server's log is not a file to write at the end). */
const NO_GENERIC_OUTPUT = new Set(['serve']);

function hasAction(command: Command): boolean {
  return (command as unknown as { _actionHandler: unknown })._actionHandler != null;
}

/**
 * One flag vocabulary: every command that prints takes -o/--output FILE (- for standard output).
 * Commands that write files themselves (`profile build|sign|verify`) define their own.
 */
function addOutputOptions(command: Command, outputs: Map<Command, true>): void {
  for (const sub of command.commands) {
    const own = sub.options.some((o) => o.short === '-o' || o.long === '--output');
    if (hasAction(sub) && !own && !NO_GENERIC_OUTPUT.has(sub.name())) {
      sub.option('-o, --output <file>', 'write the output to this file instead of standard output (- for standard output)');
      outputs.set(sub, true);
    }
    addOutputOptions(sub, outputs);
  }
}

/**
 * One flag vocabulary, the output format: every command with `--json` (and `--xml`) takes
 * `--format` — `json`, `xml` where it has one, or its default (`yaml` where it prints YAML, else
 * `text`). `--json`/`--xml` keep working, hidden from help; the format maps onto them.
 */
function addFormatOptions(command: Command, formats: Map<Command, string>): void {
  for (const sub of command.commands) {
    const json = sub.options.find((o) => o.long === '--json');
    const own = sub.options.some((o) => o.long === '--format');
    if (json && !own) {
      const xml = sub.options.find((o) => o.long === '--xml');
      const natural = /YAML/.test(json.description) ? 'yaml' : 'text';
      const choices = [natural, 'json', ...(xml ? ['xml'] : [])];
      sub.addOption(
        new Option('--format <format>', `output format (${xml ? '--json and --xml also work' : '--json also works'})`)
          .choices(choices)
          .default(natural),
      );
      json.hidden = true;
      if (xml) xml.hidden = true;
      formats.set(sub, natural);
    }
    addFormatOptions(sub, formats);
  }
}

/** A bash/zsh completion script for the program's commands and options, generated from their definitions. */
function completionScript(program: Command, shell: string): string {
  const cases: string[] = [];
  const walk = (command: Command, path: string[]): void => {
    const words = [
      ...command.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden).map((c) => c.name()),
      ...command.options.filter((o) => !o.hidden).flatMap((o) => [o.short, o.long].filter((x): x is string => x !== undefined)),
      '--help',
    ];
    cases.push(`    "${path.join(' ')}") words="${words.join(' ')}" ;;`);
    for (const sub of command.commands) walk(sub, [...path, sub.name()]);
  };
  walk(program, []);
  const body = `_mockiron_complete() {
  local cur path="" w i cand words=""
  cur="\${COMP_WORDS[COMP_CWORD]}"
  # the command path: the words before the cursor that are not options or their values
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    case "$w" in -*) continue ;; esac
    case "$path" in "") cand="$w" ;; *) cand="$path $w" ;; esac
    if _mockiron_known "$cand"; then path="$cand"; fi
  done
  case "$path" in
${cases.join('\n')}
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
_mockiron_known() {
  case "$1" in
${cases.map((c) => c.replace(/\) words=.*$/, ') return 0 ;;')).join('\n')}
  esac
  return 1
}
`;
  if (shell === 'zsh')
    return `# mockiron completion for zsh: eval "$(mockiron completion zsh)"\nautoload -U +X bashcompinit && bashcompinit\n${body}complete -o default -F _mockiron_complete mockiron\n`;
  return `# mockiron completion for bash: eval "$(mockiron completion bash)"\n${body}complete -o default -F _mockiron_complete mockiron\n`;
}

/** A fresh program per run: commander keeps parsed values on its commands. */
function buildProgram(io: CliIo, stdout: SwitchableStdout): Command {
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
    .exitOverride()
    .version(VERSION, '-V, --version', 'print the version')
    .addHelpText('after', '\nExit codes: `mockiron help exit-codes`. Shell completion: `mockiron completion bash|zsh`.');
  const commandIo: CliIo = { ...io, stdout };
  io = commandIo;

  registerServerCommands(program, io);
  registerProfilesCommands(program, io);
  registerSigningCommands(program, io);
  registerAnyconnectCommands(program, io);
  registerSimulatorCommands(program, io);
  registerApnsCommands(program, io);
  registerDevicesCommands(program, io);

  program
    .command('completion')
    .description('print a shell completion script: eval "$(mockiron completion bash)" in ~/.bashrc (zsh: completion zsh)')
    .argument('[shell]', 'bash or zsh', 'bash')
    .action((shell: string) => {
      if (shell !== 'bash' && shell !== 'zsh') throw new CliError(`completion: bash or zsh, not ${shell.slice(0, 20)}`, 2);
      io.stdout.write(completionScript(program, shell));
    });

  const outputs = new Map<Command, true>();
  addOutputOptions(program, outputs);
  const formats = new Map<Command, string>();
  addFormatOptions(program, formats);
  program.hook('preAction', (_program, action) => {
    applyIoEnv(action, io);
    const natural = formats.get(action);
    if (natural !== undefined) {
      const { format, json, xml } = action.opts() as { format: string; json?: boolean; xml?: boolean };
      if (format !== natural && (json || xml) && !(format === 'json' ? json : xml)) {
        throw new CliError(`--format ${format} and --${json ? 'json' : 'xml'} disagree: give one`, 2);
      }
      if (format === 'json') action.setOptionValue('json', true);
      if (format === 'xml') action.setOptionValue('xml', true);
    }
    const output = outputs.has(action) ? (action.opts() as { output?: string }).output : undefined;
    if (output !== undefined && output !== '-') {
      if (output.length === 0) throw new CliError('-o/--output needs a file name, or - for standard output', 2);
      stdout.capture();
      pendingOutput.set(stdout, output);
    }
  });
  return program;
}

/** The file a run's captured standard output goes to (set by the preAction hook). */
const pendingOutput = new WeakMap<SwitchableStdout, string>();

function flushOutput(stdout: SwitchableStdout): void {
  const path = pendingOutput.get(stdout);
  if (path === undefined) return;
  pendingOutput.delete(stdout);
  stdout.flushTo(path);
}

/**
 * Runs one mockiron command line (argv without node and the script: `['profile', 'build', …]`)
 * and returns its exit code. Writes only through io and never exits the process; `serve` and
 * `simulate` still answer signals while they run.
 */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  if (argv[0] === 'help' && argv[1] === 'exit-codes') {
    io.stdout.write(exitCodesText());
    return 0;
  }
  const stdout = new SwitchableStdout(io.stdout);
  try {
    await buildProgram(io, stdout).parseAsync([...argv], { from: 'user' });
    flushOutput(stdout);
    return 0;
  } catch (err) {
    // help and version are "errors" to commander; their exit code is 0
    if (err instanceof CommanderError) return USAGE_ERRORS.has(err.code) && err.exitCode !== 0 ? 2 : err.exitCode;
    if (err instanceof CliExit) {
      // an outcome such as "denied" after the command printed it: the output file gets it too
      try {
        flushOutput(stdout);
      } catch (flushErr) {
        io.stderr.write(`mockiron: ${(flushErr as Error).message}\n`);
        return 1;
      }
      return err.exitCode;
    }
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
