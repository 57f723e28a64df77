// The real binary, spawned as a user runs it: bin/mockiron.js → dist/ → run(argv, process io).
// The other CLI tests call run() in-process; these prove the process wiring (streams, stdin,
// exit codes) gives the same answers.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'mockiron-smoke-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function spawnMockiron(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, ['bin/mockiron.js', ...args], { cwd: ROOT, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
    child.stdin!.end(input ?? '');
  });
}

describe('mockiron, the real binary', () => {
  it('--help exits 0 and prints what run() prints in-process', async () => {
    const spawned = await spawnMockiron(['--help']);
    expect(spawned.code).toBe(0);
    expect(spawned.stdout).toMatch(/^Usage: mockiron \[options\] \[command\]\n/);
    for (const command of ['serve', 'profile', 'signing', 'perapp', 'asa', 'anyconnect', 'simulate'])
      expect(spawned.stdout).toContain(`  ${command}`);
    const inProcess = await runCli(['--help']);
    expect({ ...spawned }).toEqual({ code: inProcess.code, stdout: inProcess.stdout, stderr: inProcess.stderr });
  });

  it('an unknown command and a bad option value: exit 2 (usage), the error and the usage on stderr, nothing on stdout', async () => {
    const unknown = await spawnMockiron(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toMatch(/^error: unknown command 'frobnicate'\n/);
    const badChoice = await spawnMockiron(['profile', 'build', '--format', 'yaml', 'x.yaml']);
    expect(badChoice.code).toBe(2);
    expect(badChoice.stderr).toMatch(
      /^error: option '--format <format>' argument 'yaml' is invalid. Allowed choices are xml, json.\n\nUsage: mockiron profile build /,
    );
  });

  it('profile build writes the checked-in example byte for byte', async () => {
    const out = join(tmp, 'vpndemo-external.mobileconfig');
    const run = await spawnMockiron(['profile', 'build', 'profiles/vpndemo-external.yaml', '-o', out]);
    expect(run).toEqual({ code: 0, stdout: '', stderr: `wrote ${out}\n` });
    expect(readFileSync(out).equals(readFileSync(join(ROOT, 'profiles/vpndemo-external.mobileconfig')))).toBe(true);
  });

  it('a failing command: one line on stderr and exit 1; an outcome code (denied) is exit 3', async () => {
    const missing = await spawnMockiron(['profile', 'build', join(tmp, 'nope.yaml')]);
    expect(missing).toEqual({ code: 1, stdout: '', stderr: `mockiron: ${join(tmp, 'nope.yaml')}: no such file\n` });
    const denied = await spawnMockiron(['perapp', 'check', '--policy', 'examples/perapp-rules.yaml', '--app', 'com.example.unlisted']);
    expect(denied.code).toBe(3);
    expect(denied.stdout).toMatch(/^DENIED: iOS app 'com\.example\.unlisted'\n/);
  });

  it('reads standard input for `-`', async () => {
    const encoded = await runCli(['perapp', 'encode', 'examples/perapp-rules.yaml']);
    const decoded = await spawnMockiron(['perapp', 'decode', '-'], encoded.stdout);
    expect(decoded.code).toBe(0);
    expect(decoded.stdout).toMatch(/^# compression: zlib\n/);
    expect(decoded.stdout).toContain('appId: com.microsoft.rdc.ios');
  });
});
