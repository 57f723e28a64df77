import { CliError } from '../platform/cli/errors.js';
import type { CliIo } from '../platform/cli/io.js';
import { isVersionLike } from '../lib/versions/compare.js';
import { readFileOrFail, render, type OutputFormat } from './cli-files.js';
import { hasErrors, lintProfile, type LintFinding } from '../lib/profiles/lint.js';
import { ProfileReadError, readProfileBytes, type ReadProfile } from './read-profile.js';
import { loadProfileSchemas } from './schema-loader.js';

// What `mockiron profile inspect|lint` do; their definitions (options, help) are in cli.ts,
// which loads this module only when one of them runs.

function readProfileOrFail(file: string): ReadProfile {
  try {
    return readProfileBytes(readFileOrFail(file));
  } catch (err) {
    if (err instanceof ProfileReadError) throw new CliError(`${file}: ${err.message}`);
    throw err;
  }
}

function describeSource(file: string, read: ReadProfile): string {
  const kind = `${read.format === 'binary' ? 'binary' : 'XML'} plist`;
  if (!read.signature) return `${file}: unsigned ${kind}`;
  const by = read.signature.signers.length > 0 ? read.signature.signers.join('; ') : 'no identifiable signer';
  return `${file}: signed (CMS SignedData) by ${by}; signature NOT verified; content is an ${kind}`;
}

function formatFinding(file: string, f: LintFinding): string {
  return `${file}: ${f.severity} ${f.path || '(profile)'}: ${f.message}`;
}

export interface LintCliOptions {
  ios?: string;
  format: 'text' | 'json';
}

export function runLint(files: string[], opts: LintCliOptions, io: CliIo): void {
  if (opts.ios !== undefined && !isVersionLike(opts.ios)) throw new CliError(`--ios must be a version such as 9.3 or 17.4: ${opts.ios}`);
  const schemas = loadProfileSchemas();
  const results: Array<{ file: string; findings?: LintFinding[]; problem?: string }> = [];
  for (const file of files) {
    try {
      const read = readProfileOrFail(file);
      results.push({ file, findings: lintProfile(read.value, schemas, { iosVersion: opts.ios }) });
    } catch (err) {
      if (!(err instanceof CliError)) throw err;
      results.push({ file, problem: err.message });
    }
  }
  if (opts.format === 'json') {
    io.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  } else {
    for (const r of results) {
      if (r.problem) {
        io.stderr.write(`mockiron: ${r.problem}\n`);
        continue;
      }
      const findings = r.findings ?? [];
      for (const f of findings) io.stdout.write(`${formatFinding(r.file, f)}\n`);
      const count = (s: LintFinding['severity']) => findings.filter((f) => f.severity === s).length;
      io.stdout.write(
        findings.length === 0
          ? `${r.file}: ok\n`
          : `${r.file}: ${count('error')} error(s), ${count('warning')} warning(s), ${count('info')} info\n`,
      );
    }
  }
  const failed = results.filter((r) => r.problem !== undefined || hasErrors(r.findings ?? []));
  if (failed.length > 0) {
    const unreadable = results.filter((r) => r.problem !== undefined).length;
    throw new CliError(
      `lint failed for ${failed.length} of ${results.length} file(s)${unreadable ? ` (${unreadable} unreadable)` : ''}`,
    );
  }
}

export function runInspect(file: string, opts: { format: OutputFormat }, io: CliIo): void {
  const read = readProfileOrFail(file);
  io.stderr.write(`${describeSource(file, read)}\n`);
  io.stdout.write(render(read.value, opts.format));
}
