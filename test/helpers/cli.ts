// Runs mockiron command lines in-process through run(argv, io), as bin/mockiron.js does with the
// real process streams: what a command prints, its exit code and the files it writes are the
// same, without starting a Node process per case. test/cli/smoke.test.ts keeps the real binary honest.
import { fileURLToPath } from 'node:url';
import { run } from '../../src/app/cli/main.js';

/** The repository root: command lines in tests name files relative to it, as a user in a clone would. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface CliRun {
  code: number;
  /** stdout as UTF-8 text (as `execFile(…, { encoding: 'utf8' })` gives it) */
  stdout: string;
  stderr: string;
  /** stdout as written, for binary output such as a signed profile */
  stdoutBytes: Buffer;
}

export interface CliRunOptions {
  /** the command's environment (default: this process's) */
  env?: Record<string, string | undefined>;
  /** standard input, for `-` arguments */
  input?: string;
}

function collector(): { write: (chunk: string | Uint8Array) => boolean; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  return {
    write: (chunk) => {
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk));
      return true;
    },
    bytes: () => Buffer.concat(chunks),
  };
}

export async function runCli(args: string[], options: CliRunOptions = {}): Promise<CliRun> {
  // Relative paths resolve against the process's directory: vitest runs from the root.
  if (process.cwd() !== ROOT.replace(/\/$/, '')) throw new Error(`run the tests from the repository root (${ROOT}), not ${process.cwd()}`);
  const stdout = collector();
  const stderr = collector();
  const code = await run(args, {
    stdout: { write: stdout.write },
    stderr: { write: stderr.write },
    readStdin: () => options.input ?? '', // as a spawned process with nothing piped in
    env: options.env ?? process.env,
  });
  return { code, stdout: stdout.bytes().toString('utf8'), stderr: stderr.bytes().toString('utf8'), stdoutBytes: stdout.bytes() };
}
