// The README's five-minute tour, run by bash exactly as written: `npm start` in a fresh directory
// that has the project's package.json, bin/, dist/ and node_modules (so ./data is new), on the
// port the tour names (8080), with `set -e`. What each step prints is checked where the tour
// says what it shows: the ping, the readable criteria error, the device's policy, openssl's
// verdict on the signed profile, lint, the invitation and the audit log.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const tour = /```sh\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf('## A five-minute tour')))![1]!;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(os.tmpdir(), 'mockiron-tour-'));
  for (const entry of ['package.json', 'bin', 'dist', 'node_modules']) symlinkSync(join(ROOT, entry), join(dir, entry));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("README's five-minute tour", () => {
  it('runs as written, and shows what it says it shows', async () => {
    expect(tour).toContain('npm start &');
    const child = spawn('bash', ['-c', `set -e\n${tour}\nkill %1\nwait`], {
      cwd: dir,
      detached: true,
      env: { ...process.env, MOCKIRON_DATA_DIR: '', MOCKIRON_PORT: '', npm_config_loglevel: 'silent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (err += b));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 120_000);
      child.once('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    try {
      process.kill(-child.pid!, 'SIGTERM'); // the server, if bash left it behind
    } catch {
      // already gone
    }
    expect(code, `${out}\n${err}`).toBe(0);
    expect(out).toContain('"apiVersion":2');
    expect(out).toMatch(/common\.os_verison[\s\S]*did you mean/i);
    expect(out).toContain('com.google.chrome.ios');
    expect(out).toContain('"vpnUuid"');
    expect(err).toContain('Verification successful');
    expect(out).toMatch(/"challenge":"[^"]+"/);
    expect(out).toMatch(/"action":"create"/);
  }, 150_000);
});
