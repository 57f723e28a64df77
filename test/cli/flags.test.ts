// One flag vocabulary (issue #20): every command that prints takes -o/--output FILE with - for
// standard output; `mockiron --version` / `-V` print the package version; usage errors exit 2 as
// getopt-style tools do (POSIX utility conventions; GNU's "exit status 2 for trouble" in grep,
// diff); `mockiron help exit-codes` lists the codes, and each listed code is produced here by a
// real command; `mockiron completion bash` is a script bash itself accepts and completes with.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, runCli, type CliRun } from '../helpers/cli.js';
import { run, tempDir } from '../unit/signing/helpers.js';

const temp = tempDir('mockiron-flags-');
afterAll(() => temp.cleanup());

function mockiron(...args: string[]): Promise<CliRun> {
  return runCli(args, { env: { ...process.env, SOURCE_DATE_EPOCH: undefined, MOCKIRON_DATA_DIR: undefined } });
}

/** Command names listed under "Commands:" in a help text (without `help`). */
function subcommands(help: string): string[] {
  const section = help.split('\nCommands:\n')[1];
  if (!section) return [];
  return section
    .split('\n')
    .map((line) => /^ {2}([a-z][a-z-]*)/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined && name !== 'help');
}

describe('--version and help', () => {
  it('--version and -V print the package version and exit 0', async () => {
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    for (const flag of ['--version', '-V']) {
      const r = await mockiron(flag);
      expect(r).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
    }
  });

  it('--help exits 0 and points at the exit codes and completion', async () => {
    const r = await mockiron('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('-V, --version');
    expect(r.stdout).toContain('mockiron help exit-codes');
    expect(r.stdout).toContain('mockiron completion bash|zsh');
  });

  it('`help exit-codes` lists each code once, and the commands below produce the ones they name', async () => {
    const listed = await mockiron('help', 'exit-codes');
    expect(listed.code).toBe(0);
    const codes = [...listed.stdout.matchAll(/^ +(\d+) {2}/gm)].map((m) => Number(m[1]));
    expect(codes).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 130]);

    expect((await mockiron('perapp', 'check', '--policy', 'examples/perapp-rules.yaml', '--app', 'com.cisco.jabber')).code).toBe(0);
    expect((await mockiron('profile', 'build', join(temp.dir, 'missing.yaml'))).code).toBe(1);
    expect((await mockiron('profile', 'lint', 'profiles/signed/qa-identity/ca.pem')).code).toBe(1);
    for (const usage of [
      ['no-such-command'],
      ['profile', 'build', '--no-such-flag', 'x'],
      ['profile'],
      ['perapp', 'check', '--app', 'x'],
    ]) {
      const r = await mockiron(...usage);
      expect(r.code, usage.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
    }
    expect((await mockiron('perapp', 'check', '--policy', 'examples/perapp-rules.yaml', '--app', 'com.example.unlisted')).code).toBe(3);
    expect((await mockiron('profile', 'verify', 'profiles/l2tp.mobileconfig', '--ca', 'profiles/signed/qa-identity/ca.pem')).code).toBe(7);
  });
});

describe('-o/--output everywhere', () => {
  it('every command but serve lists -o, --output in its help', async () => {
    const leaves: string[][] = [];
    const walk = async (path: string[]): Promise<void> => {
      const help = (await mockiron(...path, '--help')).stdout;
      const subs = subcommands(help);
      if (path.length > 0 && (subs.length === 0 || help.includes('-o, --output'))) leaves.push(path);
      for (const sub of subs) await walk([...path, sub]);
    };
    await walk([]);
    expect(leaves.length).toBeGreaterThanOrEqual(15);
    for (const path of leaves) {
      const help = (await mockiron(...path, '--help')).stdout;
      if (path[0] === 'serve') expect(help).not.toContain('--output');
      else expect(help, path.join(' ')).toMatch(/-o, --output <[a-z]+>/);
    }
  });

  it.each([
    [['perapp', 'encode', 'examples/perapp-rules.yaml']],
    [['asa', 'render', 'examples/seed-vpndemo/headend.yaml']],
    [['profile', 'inspect', '--format', 'json', 'profiles/signed/ikev2.mobileconfig']],
    [['profile', 'build', 'profiles/ikev2.yaml']],
    [['signing', 'show', '--data-dir', 'profiles/no-such-data-dir-so-it-fails']],
  ])('%j: -o - is standard output, -o FILE gets the same bytes and nothing on stdout', async (args) => {
    const plain = await mockiron(...args);
    const dash = await mockiron(...args, '-o', '-');
    expect(dash.code).toBe(plain.code);
    expect(dash.stdoutBytes.equals(plain.stdoutBytes)).toBe(true);
    const file = join(temp.dir, `${args.slice(0, 2).join('-')}.out`);
    const toFile = await mockiron(...args, '--output', file);
    expect(toFile.code).toBe(plain.code);
    expect(toFile.stdout).toBe('');
    if (plain.code === 0) {
      expect(plain.stdoutBytes.length).toBeGreaterThan(0);
      expect(readFileSync(file).equals(plain.stdoutBytes)).toBe(true);
    } else {
      // a failed command leaves no file behind
      expect(existsSync(file)).toBe(false);
    }
  });

  it('an outcome exit code (denied, 3) still writes the file: the verdict is the output', async () => {
    const file = join(temp.dir, 'denied.json');
    const r = await mockiron(
      'perapp',
      'check',
      '--policy',
      'examples/perapp-rules.yaml',
      '--app',
      'com.example.unlisted',
      '--json',
      '-o',
      file,
    );
    expect(r.code).toBe(3);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ permitted: false });
  });

  it('an unwritable -o FILE is a one-line error, exit 1', async () => {
    const r = await mockiron('perapp', 'encode', 'examples/perapp-rules.yaml', '-o', join(temp.dir, 'no', 'such', 'dir', 'x'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^mockiron: .*cannot write \(ENOENT\)\n$/);
  });
});

describe('shell completion', () => {
  function complete(script: string, words: string[]): string[] {
    const file = join(temp.dir, 'completion.bash');
    writeFileSync(file, script);
    const line = `source ${file}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _mockiron_complete; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const r = run('bash', ['-c', line]);
    expect(r.status, r.stderr).toBe(0);
    return r.stdout.split('\n').filter(Boolean).sort();
  }

  it('bash accepts the script and completes commands, subcommands and options from the definitions', async () => {
    const r = await mockiron('completion', 'bash');
    expect(r.code).toBe(0);
    expect(run('bash', ['-n', '-c', r.stdout]).status).toBe(0);
    expect(complete(r.stdout, ['mockiron', 'pro'])).toEqual(['profile']);
    expect(complete(r.stdout, ['mockiron', 'profile', ''])).toEqual(expect.arrayContaining(['build', 'inspect', 'lint', 'sign', 'verify']));
    expect(complete(r.stdout, ['mockiron', 'profile', 'build', 'x.yaml', '--si'])).toEqual(['--sign', '--signing-time']);
    expect(complete(r.stdout, ['mockiron', 'profile', 'sign', '--'])).not.toContain('--out'); // the hidden old spelling
  });

  it('zsh gets a script through bashcompinit; another shell is a usage error', async () => {
    const zsh = await mockiron('completion', 'zsh');
    expect(zsh.code).toBe(0);
    expect(zsh.stdout).toContain('bashcompinit');
    const fish = await mockiron('completion', 'fish');
    expect(fish.code).toBe(2);
    expect(fish.stderr).toContain('bash or zsh');
  });
});
