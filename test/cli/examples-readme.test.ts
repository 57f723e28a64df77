// examples/README.md's command block, run exactly as written by bash: the real binary on PATH as
// `mockiron`, in a fresh directory where `examples/` is the repository's (so the files the lines
// write, perapp.blob and asa.cli, land there), lines joined at `\` and in order. A line commented
// "exit N" must exit N, the others 0. Also checks --format, the one output-format flag.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../helpers/cli.js';

const readme = readFileSync(join(ROOT, 'examples/README.md'), 'utf8');
const block = /```sh\n([\s\S]*?)```/.exec(readme)![1]!;
const lines = block
  .replace(/\\\n\s*/g, '')
  .split('\n')
  .filter((line) => line.startsWith('mockiron '))
  .map((line) => ({ command: line.replace(/\s+#.*$/, '').trim(), exit: Number(/#.*exit (\d+)/.exec(line)?.[1] ?? 0) }));

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(os.tmpdir(), 'mockiron-examples-'));
  symlinkSync(join(ROOT, 'examples'), join(dir, 'examples'));
  const shim = join(dir, 'bin', 'mockiron');
  spawnSync('mkdir', ['-p', join(dir, 'bin')]);
  writeFileSync(shim, `#!/bin/sh\nexec node ${JSON.stringify(join(ROOT, 'bin/mockiron.js'))} "$@"\n`);
  chmodSync(shim, 0o755);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("examples/README.md's command lines", () => {
  it('run in order with bash, each with the exit code its comment says', () => {
    expect(lines.length).toBeGreaterThanOrEqual(7);
    for (const { command, exit } of lines) {
      const r = spawnSync('bash', ['-c', command], {
        cwd: dir,
        env: { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH}` },
        encoding: 'utf8',
      });
      expect(r.status, `${command}\n${r.stderr}`).toBe(exit);
    }
    // What the lines wrote is what they say: the blob decodes, asa.cli parses back to JSON.
    expect(readFileSync(join(dir, 'perapp.blob'), 'utf8')).toMatch(/^eJ[A-Za-z0-9+/=]+\s*$/);
    expect(readFileSync(join(dir, 'asa.cli'), 'utf8')).toMatch(/^tunnel-group /m);
  });
});

describe('--format, the one output-format flag', () => {
  it('--format json prints what --json prints; the default is the command’s own format; a conflict is a usage error', async () => {
    const args = ['perapp', 'decode', '-'];
    const blob = (await runCli(['perapp', 'encode', 'examples/perapp-rules.yaml'])).stdout;
    const viaFormat = await runCli([...args, '--format', 'json'], { input: blob });
    const viaJson = await runCli([...args, '--json'], { input: blob });
    expect(viaFormat.code).toBe(0);
    expect(viaFormat.stdout).toBe(viaJson.stdout);
    expect(() => JSON.parse(viaFormat.stdout)).not.toThrow();
    expect((await runCli([...args, '--format', 'xml'], { input: blob })).stdout).toBe(
      (await runCli([...args, '--xml'], { input: blob })).stdout,
    );
    expect((await runCli([...args, '--format', 'yaml'], { input: blob })).stdout).toBe((await runCli(args, { input: blob })).stdout);
    expect((await runCli([...args, '--format', 'json', '--xml'], { input: blob })).code).toBe(2);
    expect((await runCli([...args, '--format', 'toml'], { input: blob })).code).toBe(2);
  });

  it('every command with a machine-readable output lists --format in its help, and not --json', async () => {
    for (const path of [['perapp', 'decode'], ['perapp', 'check'], ['asa', 'parse'], ['anyconnect', 'simulate'], ['simulate']]) {
      const help = (await runCli([...path, '--help'])).stdout;
      expect(help, path.join(' ')).toMatch(/--format <format>/);
      expect(help, path.join(' ')).not.toMatch(/^\s+--json\b/m);
    }
  });
});
