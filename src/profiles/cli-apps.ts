// What `mockiron profile app-commands` does; its definition is in cli.ts, which loads this
// module only when it runs.
import { CliError } from '../platform/cli/errors.js';
import type { CliIo } from '../platform/cli/io.js';
import { buildAppCommands, checkAppCommand } from '../lib/profiles/app-commands.js';
import { parseProfileSpec, SpecError } from '../lib/profiles/spec.js';
import { readFileOrFail, render, type OutputFormat } from './cli-files.js';
import { loadAppCommandSchemas } from './schema-loader.js';

/**
 * `profile app-commands`: the spec's app commands as one plist array, after checking each against
 * Apple's schema (a finding is a bug in the builder: it fails rather than printing a bad command).
 */
export function runAppCommands(file: string, opts: { format: OutputFormat }, io: CliIo): void {
  const text = readFileOrFail(file).toString('utf8');
  let spec;
  try {
    spec = parseProfileSpec(text, file);
  } catch (err) {
    if (err instanceof SpecError) throw new CliError(err.message);
    throw err;
  }
  if (spec.apps.length === 0) throw new CliError(`${file}: the spec has no apps: section, so there are no app commands`);
  const commands = buildAppCommands(spec);
  const schemas = loadAppCommandSchemas();
  const findings = commands.flatMap((c) => checkAppCommand(c, schemas).map((f) => `${f.path}: ${f.message}`));
  if (findings.length > 0) throw new CliError(`the app commands do not match Apple's schema:\n${findings.join('\n')}`);
  io.stdout.write(render(commands, opts.format));
  io.stderr.write(`${commands.length} command(s) for ${spec.apps.length} app(s); Apple's schema: ok\n`);
}
