import { mkdirSync, readdirSync, renameSync, statSync, writeFileSync, rmSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { CliError } from '../platform/cli/errors.js';
import type { CliIo } from '../platform/cli/io.js';
import { readFileOrFail, render, type OutputFormat } from './cli-files.js';
import { ProfileBuildError } from '../lib/profiles/errors.js';
import { buildVpnProfile } from '../lib/profiles/profile.js';
import { parseProfileSpec, SpecError, specToBuildInput } from '../lib/profiles/spec.js';
import { isUuid } from '../lib/profiles/uuid.js';
import { expandMatrix } from '../lib/profiles/matrix.js';

// What `mockiron profile build` does; its definition (options, help) is in cli.ts, which loads
// this module only when it runs. Signing and the progress bar are loaded only when used.

const SPEC_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Writes via a temporary sibling and a rename, so a reader never sees half a profile. */
function writeAtomically(path: string, text: string | Buffer): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new CliError(`${path}: cannot write (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

/** One built profile: `cell` names the matrix cell ('' for a spec without a matrix). */
interface BuiltProfile {
  cell: string;
  text: string | Buffer;
}

/**
 * Builds one spec file — every cell of its matrix — to text, linting each cell for the matrix's
 * iOS versions; returns the messages instead when the spec or a cell is wrong. Lint warnings go
 * to `warnings`.
 */
async function buildSpecFile(
  file: string,
  format: OutputFormat,
  namespace: string | undefined,
  sign: Signer | undefined,
  warnings: string[],
): Promise<{ outputs: BuiltProfile[] } | { errors: string[] }> {
  const text = readFileOrFail(file).toString('utf8');
  try {
    const spec = parseProfileSpec(text, file);
    const expanded = expandMatrix(spec);
    if ('problems' in expanded) return { errors: expanded.problems.map((p) => `${file}: matrix cell ${p.cell}: ${p.message}`) };
    const iosVersions = spec.matrix?.ios ?? [];
    // Lint and Apple's schemas are loaded only for a matrix that asks for them
    const lint =
      iosVersions.length > 0
        ? await Promise.all([import('../lib/profiles/lint.js'), import('./schema-loader.js')]).then(([l, loader]) => ({
            lintProfile: l.lintProfile,
            schemas: loader.loadProfileSchemas(),
          }))
        : undefined;
    const outputs: BuiltProfile[] = [];
    const errors: string[] = [];
    for (const cell of expanded.cells) {
      const input = specToBuildInput(cell.spec);
      if (namespace) input.namespace = namespace;
      const profile = buildVpnProfile(input);
      const where = cell.name ? `${file} [${cell.name}]` : file;
      for (const ios of iosVersions) {
        for (const f of lint!.lintProfile(profile, lint!.schemas, { iosVersion: ios })) {
          const line = `${where} iOS ${ios}: ${f.severity} ${f.path || '(profile)'}: ${f.message}`;
          if (f.severity === 'error') errors.push(line);
          else warnings.push(line);
        }
      }
      const rendered = render(profile, format);
      outputs.push({ cell: cell.name, text: sign ? sign(Buffer.from(rendered)) : rendered });
    }
    return errors.length > 0 ? { errors } : { outputs };
  } catch (err) {
    if (err instanceof SpecError) return { errors: err.message.split('\n') };
    if (err instanceof ProfileBuildError) return { errors: [`${file}: ${err.message}`] };
    throw err;
  }
}

function outputName(specFile: string, format: OutputFormat, cell = ''): string {
  return `${basename(specFile, extname(specFile))}${cell ? `-${cell}` : ''}.${format === 'json' ? 'json' : 'mobileconfig'}`;
}

export interface BuildOptions {
  output?: string;
  format: OutputFormat;
  namespace?: string;
  sign?: boolean;
  dataDir: string;
  key?: string;
  cert?: string;
  chain?: string;
  signingTime?: string;
}

/** Turns the unsigned XML into a signed DER CMS profile. */
type Signer = (xml: Buffer) => Buffer;

async function signerFor(opts: BuildOptions, io: CliIo): Promise<Signer | undefined> {
  if (!opts.sign) {
    if (opts.signingTime !== undefined) throw new CliError('--signing-time applies to signing: add --sign');
    return undefined;
  }
  if (opts.format === 'json') throw new CliError('--sign makes a signed .mobileconfig; it cannot be combined with --format json');
  const [{ signingIdentityFor, resolveSigningTime }, { signCms }] = await Promise.all([import('../signing/index.js'), import('../lib/pki/cms.js')]);
  const signingTime = resolveSigningTime(opts.signingTime, io.env);
  const identity = await signingIdentityFor(opts);
  return (xml) =>
    signCms(xml, { privateKey: identity.privateKey, certificate: identity.certificate, chain: [...identity.chain] }, { signingTime });
}

export async function runBuild(input: string, opts: BuildOptions, io: CliIo): Promise<void> {
  const sign = await signerFor(opts, io);
  if (opts.namespace !== undefined && !isUuid(opts.namespace)) throw new CliError(`--namespace must be a UUID: ${opts.namespace}`);
  const warnings: string[] = [];
  const report = () => warnings.forEach((w) => io.stderr.write(`${w}\n`));
  if (!isDirectory(input)) {
    const result = await buildSpecFile(input, opts.format, opts.namespace, sign, warnings);
    report();
    if ('errors' in result) throw new CliError(result.errors.join('\n'));
    const [only] = result.outputs;
    if (result.outputs.length === 1 && only!.cell === '') {
      if (opts.output === undefined || opts.output === '-') io.stdout.write(only!.text);
      else {
        writeAtomically(opts.output, only!.text);
        io.stderr.write(`wrote ${opts.output}\n`);
      }
      return;
    }
    // A matrix makes several profiles: they go to a directory
    if (opts.output === undefined || opts.output === '-') throw new CliError(`${input} has a matrix of ${result.outputs.length} profiles: give -o OUTDIR`);
    mkdirSync(opts.output, { recursive: true });
    for (const { cell, text } of result.outputs) writeAtomically(join(opts.output, outputName(input, opts.format, cell)), text);
    io.stderr.write(`wrote ${result.outputs.length} profile(s) to ${opts.output}\n`);
    return;
  }

  if (opts.output === undefined) throw new CliError('building a directory needs -o OUTDIR');
  const specs = readdirSync(input)
    .filter((f) => SPEC_EXTENSIONS.has(extname(f).toLowerCase()) && !f.startsWith('.'))
    .sort()
    .map((f) => join(input, f));
  if (specs.length === 0) throw new CliError(`${input}: no spec files (*.yaml, *.yml, *.json)`);
  const names = new Map<string, string>();

  // Build everything first and write only if all specs are good: a half-updated output
  // directory is worse than an untouched one.
  // Only on a terminal, where io.stderr is the process's tty stream
  const bar = io.stderr.isTTY
    ? new (await import('cli-progress')).SingleBar({ stream: io.stderr as NodeJS.WritableStream, format: 'building {bar} {value}/{total} {file}', hideCursor: true, clearOnComplete: true })
    : undefined;
  bar?.start(specs.length, 0, { file: '' });
  const built: Array<{ out: string; text: string | Buffer }> = [];
  const errors: string[] = [];
  try {
    for (const spec of specs) {
      bar?.update({ file: basename(spec) });
      const result = await buildSpecFile(spec, opts.format, opts.namespace, sign, warnings);
      if ('errors' in result) errors.push(...result.errors);
      else {
        for (const { cell, text } of result.outputs) {
          const out = outputName(spec, opts.format, cell);
          const clash = names.get(out);
          if (clash) errors.push(`${clash} and ${spec} would both be written to ${out}`);
          names.set(out, spec);
          built.push({ out: join(opts.output, out), text });
        }
      }
      bar?.increment();
    }
  } finally {
    bar?.stop();
  }
  report();
  if (errors.length > 0) throw new CliError(`${errors.join('\n')}\nnothing written (${errors.length} problem(s))`);
  mkdirSync(opts.output, { recursive: true });
  for (const { out, text } of built) writeAtomically(out, text);
  io.stderr.write(`wrote ${built.length} profile(s) to ${opts.output}\n`);
}
