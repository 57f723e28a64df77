// run(argv, io) is the whole CLI as a function: it writes only through io, reads the environment
// from io, returns the exit code and leaves the process as it found it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { run } from '../../src/app/cli/main.js';
import { runCli } from '../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'mockiron-run-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('run(argv, io)', () => {
  it('writes nothing to the process streams, sets no process exit code and adds no listeners', async () => {
    const stdoutWrite = vi.spyOn(process.stdout, 'write');
    const stderrWrite = vi.spyOn(process.stderr, 'write');
    const exitCode = process.exitCode;
    const listeners = process.eventNames().map((name) => [name, process.listenerCount(name)]);
    try {
      expect((await runCli(['--help'])).code).toBe(0);
      expect((await runCli(['perapp', 'check', '--policy', 'examples/perapp-rules.yaml', '--app', 'com.example.unlisted'])).code).toBe(3);
      expect((await runCli(['profile', 'build', join(tmp, 'missing.yaml')])).code).toBe(1);
      expect((await runCli(['no-such-command'])).code).toBe(2); // a usage error (mockiron help exit-codes)
      expect(stdoutWrite).not.toHaveBeenCalled();
      expect(stderrWrite).not.toHaveBeenCalled();
    } finally {
      stdoutWrite.mockRestore();
      stderrWrite.mockRestore();
    }
    expect(process.exitCode).toBe(exitCode);
    expect(process.eventNames().map((name) => [name, process.listenerCount(name)])).toEqual(listeners);
  });

  it('builds a fresh program per call: options of one run do not carry into the next', async () => {
    const dataDir = join(tmp, 'data');
    expect((await runCli(['signing', 'init', '--key-type', 'ec', '--data-dir', dataDir])).code).toBe(0);
    const json = await runCli(['signing', 'show', '--json', '--data-dir', dataDir]);
    expect(JSON.parse(json.stdout)).toMatchObject({ key: 'EC prime256v1' });
    const text = await runCli(['signing', 'show', '--data-dir', dataDir]);
    expect(text.stdout).toMatch(/^Signer: {10}O=mockiron, CN=mockiron Profile Signer\n/);
  });

  it("reads the environment from io, not from the process: an option's env variable included", async () => {
    const dataDir = join(tmp, 'env-data');
    expect((await runCli(['signing', 'init', '--data-dir', dataDir])).code).toBe(0);
    const fromIo = await runCli(['signing', 'show', '--json'], { env: { MOCKIRON_DATA_DIR: dataDir } });
    expect(fromIo.code).toBe(0);
    expect(JSON.parse(fromIo.stdout)).toMatchObject({ directory: join(dataDir, 'signing') });
    // the process's own value is ignored when io says otherwise
    vi.stubEnv('MOCKIRON_DATA_DIR', dataDir);
    try {
      const without = await runCli(['signing', 'show'], { env: {} });
      expect(without.code).toBe(1);
      expect(without.stderr).toMatch(/^mockiron: .*data\/signing.*signing init/);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('an unexpected failure is one line on stderr and exit 1, never a throw', async () => {
    let stderr = '';
    const code = await run(['perapp', 'decode', '-'], {
      stdout: { write: () => true },
      stderr: { write: (chunk) => (stderr += chunk.toString()) },
      readStdin: () => {
        throw new Error('stdin is closed');
      },
      env: {},
    });
    expect(code).toBe(1);
    expect(stderr).toBe('mockiron: unexpected error: stdin is closed\n');
  });
});
