import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// What a command loads decides how fast it starts (issue #14: `mockiron --help` ≤ 0.3 s): the
// command definitions must not load any implementation, and `profile build` only what building
// needs. Time itself is too noisy to assert on a shared machine; the modules loaded are not.
// Runs the real binary with a loader hook that logs every module it loads.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'mockiron-startup-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let runs = 0;

function mockironLoads(...args: string[]): Promise<{ code: number; stdout: string; modules: string[] }> {
  const log = join(tmp, `modules-${++runs}.log`);
  return new Promise((resolve) => {
    execFile(
      'node',
      ['--import', './test/fixtures/import-log/register.mjs', 'bin/mockiron.js', ...args],
      { cwd: ROOT, encoding: 'utf8', env: { ...process.env, MOCKIRON_IMPORT_LOG: log } },
      (err, stdout) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        const urls = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
        // paths inside the checkout are relative; packages may live elsewhere (a linked node_modules)
        resolve({ code, stdout, modules: urls.map((u) => fileURLToPath(u)).map((p) => (p.startsWith(ROOT) ? p.slice(ROOT.length) : p)) });
      },
    );
  });
}

/** Package names (node_modules/<name>/…, scoped too) among the loaded modules. */
function packages(modules: string[]): string[] {
  const names = modules.flatMap((m) => {
    const match = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*\/node_modules\/)/.exec(m);
    return match ? [match[1]!] : [];
  });
  return [...new Set(names)].sort();
}

function ownModules(modules: string[]): string[] {
  return modules.filter((m) => m.startsWith('dist/')).sort();
}

// Command definitions: the CLI entry and kit, each capability's cli.ts, and the constants
// their help texts show.
const DEFINITION_MODULE =
  /^dist\/(app\/cli\/(main|server-commands)|platform\/cli\/errors|(profiles|signing|anyconnect|simulator|mdm|devices)\/cli|platform\/config|lib\/anyconnect\/types|simulator\/(fault-kinds|enroll-modes))\.js$/;

describe('start-up: what a command loads', () => {
  it.each([
    [['--help']],
    [['profile', 'build', '--help']],
    [['signing', 'import', '--help']],
    [['perapp', 'check', '--help']],
    [['simulate', '--help']],
    [['serve', '--help']],
  ])('mockiron %j loads the command definitions and commander only', async (args) => {
    const run = await mockironLoads(...args);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: mockiron /);
    // the hook worked: the entry and the definitions were seen
    expect(run.modules).toContain('bin/mockiron.js');
    expect(ownModules(run.modules)).toContain('dist/app/cli/main.js');
    expect(ownModules(run.modules).filter((m) => !DEFINITION_MODULE.test(m))).toEqual([]);
    expect(packages(run.modules)).toEqual(['commander']);
  });

  it('profile build of one spec loads neither signing, the plist reader, lint, the progress bar nor the server', async () => {
    const out = join(tmp, 'vpndemo.mobileconfig');
    const run = await mockironLoads('profile', 'build', 'profiles/vpndemo-external.yaml', '-o', out);
    expect(run.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain('<string>com.apple.vpn.managed.applayer</string>');
    const own = ownModules(run.modules);
    expect(own).toContain('dist/profiles/cli-build.js');
    expect(own).toContain('dist/lib/profiles/spec.js');
    const implementation = own.filter((m) => !DEFINITION_MODULE.test(m));
    expect(
      implementation.filter((m) =>
        /^dist\/(signing|app|platform\/http|platform\/db|lib\/pki|lib\/scep|lib\/mdm-protocol|lib\/anyconnect|mdm|simulator|anyconnect)\/|\/(cli-read|lint|schema-loader|read-profile|signed-content)\.js$/.test(
          m,
        ),
      ),
    ).toEqual([]);
    for (const heavy of ['node-forge', 'cli-progress', 'pino', 'express', '@prisma/client', 'better-sqlite3']) {
      expect(packages(run.modules)).not.toContain(heavy);
    }
  });
});
