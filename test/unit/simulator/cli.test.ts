// `mockiron simulate` and `simulate status`, parsed by commander in-process with the commands'
// own io (src/app/cli/main.ts's run() wires them the same way; the e2e test runs the real binary).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CliError, CliExit } from '../../../src/platform/cli/errors.js';
import { installApplicationCommand } from '../../../src/lib/mdm-protocol/index.js';
import { registerSimulatorCommands } from '../../../src/simulator/cli.js';
import { ADMIN_PASSWORD, startFakeServer, type FakeServer } from './fake-server.js';

const VPN_UUID = '5A0C1E2D-3F40-4B5C-8D6E-7F8091A2B3C4';
let server: FakeServer;
let dir: string;
beforeAll(async () => {
  server = await startFakeServer();
});
afterAll(() => server.close());
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'mockiron-sim-cli-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** exitCode: the code the run ends with when it does not fail with an error (CliExit: an outcome such as a failed fleet). */
async function simulate(args: string[], env: Record<string, string> = {}): Promise<{ stdout: string; error?: unknown; exitCode?: number }> {
  const program = new Command('mockiron').exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  let stdout = '';
  const io = {
    stdout: { write: (chunk: string | Uint8Array) => (stdout += chunk.toString()) },
    stderr: { write: () => true },
    readStdin: () => '',
    env, // the admin password comes from MOCKIRON_ADMIN_PASSWORD only when a test sets it here
  };
  registerSimulatorCommands(program, io);
  try {
    await program.parseAsync(['simulate', ...args], { from: 'user' });
    return { stdout, exitCode: 0 };
  } catch (error) {
    if (error instanceof CliExit) return { stdout, exitCode: error.exitCode };
    return { stdout, error };
  }
}

async function expectCliError(args: string[], message: RegExp, exitCode?: number): Promise<void> {
  const { error } = await simulate(args);
  expect(error).toBeInstanceOf(CliError);
  expect((error as CliError).message).toMatch(message);
  if (exitCode !== undefined) expect((error as CliError).exitCode).toBe(exitCode);
}

describe('simulate: bad input', () => {
  it.each([
    [['--devices', 'abc', '--server', 'http://localhost:1'], /--devices must be a whole number/],
    [['--devices', '0', '--server', 'http://localhost:1'], /--devices must be between 1/],
    [['--concurrency', '2.5', '--server', 'http://localhost:1'], /--concurrency must be a whole number/],
    [['--iterations', '-1', '--server', 'http://localhost:1'], /--iterations must be a whole number/],
    [['--duration', '5', '--iterations', '2', '--server', 'http://localhost:1'], /--duration or --iterations, not both/],
    [['--server', 'not a url'], /--server is not a URL/],
    [['--server', 'ftp://example.com'], /http\(s\) URL/],
    [[], /--server is required/],
    [['--server', 'http://localhost:1', '--not-now-rate', '1.5'], /--not-now-rate must be a number from 0 to 1/],
    [['--server', 'http://localhost:1', '--faults', 'corrupt-signature,melt-cpu'], /unknown: melt-cpu/],
    [['--server', 'http://localhost:1', '--models', 'iPad4,1'], /--models must look like/],
    [['--server', 'http://localhost:1', '--devices', '2', '--enrollment-url', 'http://x/ota/enroll?token=t'], /--devices 1/],
  ])('%j → %s', async (args, message) => {
    await expectCliError(args, message, 2);
  });

  it('reports an unreachable server as a CLI error', async () => {
    await expectCliError(
      ['--server', 'http://127.0.0.1:1', '--state', path.join(dir, 's.json')],
      /cannot reach the server at http:\/\/127\.0\.0\.1:1/,
    );
  });

  it('reports an unreadable password file', async () => {
    await expectCliError(
      ['--server', server.url, '--admin-password-file', path.join(dir, 'absent')],
      /cannot read --admin-password-file/,
      2,
    );
  });

  it('status without a state file says so', async () => {
    await expectCliError(['status', '--state', path.join(dir, 'absent.json')], /no state file at/);
  });
});

describe('simulate: a run and its status', () => {
  it('enrolls, prints a JSON summary, and `status` shows profiles and per-app VPN bindings', async () => {
    server.onEnrolled = () => [installApplicationCommand({ identifier: 'com.google.chrome.ios', vpnUuid: VPN_UUID })];
    const passwordFile = path.join(dir, 'password');
    writeFileSync(passwordFile, `${ADMIN_PASSWORD}\n`);
    const state = path.join(dir, 'fleet.json');
    const run = await simulate([
      '--server',
      server.url,
      '--devices',
      '2',
      '--concurrency',
      '2',
      '--iterations',
      '1',
      '--poll-interval',
      '0',
      '--state',
      state,
      '--admin-password-file',
      passwordFile,
      '--json',
      '--models',
      'iPhone8,1:10.3.3',
    ]);
    expect(run.error).toBeUndefined();
    const summary = JSON.parse(run.stdout);
    expect(summary.devices).toMatchObject({ total: 2, enrolled: 2 });
    expect(summary.commands).toEqual({ InstallApplication: { Acknowledged: 2 } });
    expect(summary.latency['connect-idle']).toMatchObject({ p50: expect.any(Number), p90: expect.any(Number), p99: expect.any(Number) });
    expect(run.exitCode).toBe(0);

    const status = await simulate(['status', '--state', state, '--json']);
    expect(status.error).toBeUndefined();
    const view = JSON.parse(status.stdout);
    expect(view.devices).toHaveLength(2);
    for (const device of view.devices) {
      expect(device).toMatchObject({
        status: 'enrolled',
        productName: 'iPhone8,1',
        apps: { 'com.google.chrome.ios': { vpnUuid: VPN_UUID } },
      });
      expect(device.udid).toMatch(/^[0-9a-f]{40}$/);
      expect(device.profiles.map((p: { source: string }) => p.source)).toEqual(['enrollment']);
    }

    const text = await simulate(['status', '--state', state]);
    expect(text.stdout).toContain(view.devices[0].udid);
    expect(text.stdout).toContain(`app com.google.chrome.ios → ${VPN_UUID}`);
  });

  it('takes the admin password from MOCKIRON_ADMIN_PASSWORD and prints a text summary with percentiles', async () => {
    server.onEnrolled = undefined;
    const run = await simulate(['--server', server.url, '--devices', '1', '--iterations', '1', '--state', path.join(dir, 'one.json')], {
      MOCKIRON_ADMIN_PASSWORD: ADMIN_PASSWORD,
    });
    expect(run.error).toBeUndefined();
    expect(run.stdout).toMatch(/devices: 1 \(enrolled 1/);
    expect(run.stdout).toMatch(/connect-idle\s+1\s+[\d.]+\s+[\d.]+\s+[\d.]+/);
  });

  it('fails the run (exit code 1) when devices cannot enroll', async () => {
    const run = await simulate(['--server', server.url, '--devices', '1', '--state', path.join(dir, 'bad.json'), '--json'], {
      MOCKIRON_ADMIN_PASSWORD: 'wrong-password',
    });
    expect(run.error).toBeUndefined();
    expect(JSON.parse(run.stdout).devices.enrollmentFailures).toBe(1);
    expect(run.exitCode).toBe(1);
  });
});
