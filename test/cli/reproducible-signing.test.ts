// Reproducible signed profiles (issue #20): a pinned signing time (--signing-time, or
// SOURCE_DATE_EPOCH as https://reproducible-builds.org/specs/source-date-epoch/ defines it) makes
// `profile build --sign` and `profile sign` byte-identical run after run with an RSA signer, and
// OpenSSL's `openssl cms -verify` — a verifier nobody here wrote — accepts what they make. The
// signingTime attribute is optional in a SignerInfo's signed attributes (RFC 5652 §11.3), so
// `--signing-time none` leaves it out and OpenSSL still verifies. The golden files in
// profiles/signed/ are rebuilt with the command their README documents, exactly as written.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, runCli, type CliRun } from '../helpers/cli.js';
import { opensslCmsVerify, run, tempDir } from '../unit/signing/helpers.js';

const temp = tempDir('mockiron-repro-');
afterAll(() => temp.cleanup());

const IDENTITY = 'profiles/signed/qa-identity';
const KEY_ARGS = ['--key', `${IDENTITY}/signer.key.pem`, '--cert', `${IDENTITY}/signer.pem`, '--chain', `${IDENTITY}/ca.pem`];
const CA_PEM = readFileSync(join(ROOT, IDENTITY, 'ca.pem'), 'utf8');
// 2027-01-01T00:00:00Z, computed rather than written twice
const PINNED = '2027-01-01T00:00:00Z';
const PINNED_EPOCH = String(Date.parse(PINNED) / 1000);

function mockiron(args: string[], env: Record<string, string | undefined> = {}): Promise<CliRun> {
  return runCli(args, { env: { ...process.env, SOURCE_DATE_EPOCH: undefined, MOCKIRON_DATA_DIR: undefined, ...env } });
}

function ok(result: CliRun): CliRun {
  expect(result.code, `stderr: ${result.stderr}`).toBe(0);
  return result;
}

/** The signingTime openssl reads from the signed attributes, or undefined when there is none. */
function opensslSigningTime(signed: Buffer): string | undefined {
  const file = join(temp.dir, `st-${Math.random().toString(36).slice(2)}.der`);
  writeFileSync(file, signed);
  const printed = run('openssl', ['cms', '-cmsout', '-print', '-inform', 'DER', '-in', file]);
  expect(printed.status, printed.stderr).toBe(0);
  const match = /object: signingTime \(1\.2\.840\.113549\.1\.9\.5\)\s+set:\s+UTCTIME:(.+)/.exec(printed.stdout);
  return match?.[1]?.trim();
}

/** The README's command lines in ```sh blocks that start with `mockiron `, split on spaces (none is quoted). */
function documentedCommands(readme: string): string[][] {
  const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks
    .flatMap((b) => b.split('\n'))
    .filter((line) => line.startsWith('mockiron '))
    .map((line) => line.split(' ').slice(1));
}

describe('reproducible signing', () => {
  it('two `profile build --sign --signing-time` runs are byte-identical, and openssl verifies them with that signing time', async () => {
    const args = ['profile', 'build', 'profiles/ikev2.yaml', '--sign', ...KEY_ARGS, '--signing-time', PINNED, '-o', '-'];
    const first = ok(await mockiron(args)).stdoutBytes;
    const second = ok(await mockiron(args)).stdoutBytes;
    expect(first.equals(second)).toBe(true);
    const judged = opensslCmsVerify(temp.dir, first, CA_PEM, { purposeAny: false });
    expect(judged.ok, judged.stderr).toBe(true);
    expect(judged.content!.equals(readFileSync(join(ROOT, 'profiles/ikev2.mobileconfig')))).toBe(true);
    expect(opensslSigningTime(first)).toBe('Jan  1 00:00:00 2027 GMT');
  });

  it('SOURCE_DATE_EPOCH gives the same bytes as the same instant in --signing-time; --signing-time wins over it', async () => {
    const base = ['profile', 'build', 'profiles/l2tp.yaml', '--sign', ...KEY_ARGS, '-o', '-'];
    const pinned = ok(await mockiron([...base, '--signing-time', PINNED])).stdoutBytes;
    const fromEnv = ok(await mockiron(base, { SOURCE_DATE_EPOCH: PINNED_EPOCH })).stdoutBytes;
    expect(fromEnv.equals(pinned)).toBe(true);
    const overridden = ok(
      await mockiron([...base, '--signing-time', '2030-06-01T12:00:00Z'], { SOURCE_DATE_EPOCH: PINNED_EPOCH }),
    ).stdoutBytes;
    expect(opensslSigningTime(overridden)).toBe('Jun  1 12:00:00 2030 GMT');
  });

  it('without a pinned time the signature carries the current time (so unpinned runs differ), as before', async () => {
    const before = Math.floor(Date.now() / 1000) * 1000;
    const signed = ok(await mockiron(['profile', 'build', 'profiles/l2tp.yaml', '--sign', ...KEY_ARGS, '-o', '-'])).stdoutBytes;
    const when = Date.parse(opensslSigningTime(signed)!.replace(/\s+/g, ' '));
    expect(when).toBeGreaterThanOrEqual(before);
    expect(when).toBeLessThanOrEqual(Date.now());
  });

  it('--signing-time none leaves the attribute out; openssl verifies, and the output is reproducible', async () => {
    const args = ['profile', 'build', 'profiles/ipsec.yaml', '--sign', ...KEY_ARGS, '--signing-time', 'none', '-o', '-'];
    const first = ok(await mockiron(args)).stdoutBytes;
    expect(ok(await mockiron(args)).stdoutBytes.equals(first)).toBe(true);
    expect(opensslSigningTime(first)).toBeUndefined();
    expect(opensslCmsVerify(temp.dir, first, CA_PEM).ok).toBe(true);
    const verified = ok(await mockiron(['profile', 'verify', writeTemp('none.der', first), '--ca', `${IDENTITY}/ca.pem`]));
    expect(verified.stdout).toMatch(/Signature:\s+valid/);
    expect(verified.stdout).not.toContain('Signed at:');
  });

  it('`profile sign --signing-time` matches `profile build --sign` for the same profile and time, to a file or to stdout', async () => {
    const built = ok(
      await mockiron(['profile', 'build', 'profiles/ikev2.yaml', '--sign', ...KEY_ARGS, '--signing-time', PINNED]),
    ).stdoutBytes;
    const out = join(temp.dir, 'signed-by-sign.mobileconfig');
    const toFile = ok(
      await mockiron(['profile', 'sign', 'profiles/ikev2.mobileconfig', ...KEY_ARGS, '--signing-time', PINNED, '--output', out]),
    );
    expect(toFile.stdout).toContain(`-> ${out}`);
    expect(readFileSync(out).equals(built)).toBe(true);
    const toStdout = ok(
      await mockiron(['profile', 'sign', 'profiles/ikev2.mobileconfig', ...KEY_ARGS, '--signing-time', PINNED, '-o', '-']),
    );
    expect(toStdout.stdoutBytes.equals(built)).toBe(true);
    expect(toStdout.stderr).toContain('-> standard output');
    // the old spelling still works
    const old = join(temp.dir, 'old-spelling.mobileconfig');
    ok(await mockiron(['profile', 'sign', 'profiles/ikev2.mobileconfig', ...KEY_ARGS, '--signing-time', PINNED, '--out', old]));
    expect(readFileSync(old).equals(built)).toBe(true);
  });

  it('refuses a malformed signing time or SOURCE_DATE_EPOCH, and --signing-time without --sign', async () => {
    const base = ['profile', 'build', 'profiles/ikev2.yaml', '--sign', ...KEY_ARGS, '-o', '-'];
    for (const bad of ['yesterday', '2027-13-01T00:00:00Z', '2027-01-01T00:00:00', '1900-01-01', 'x'.repeat(5000)]) {
      const r = await mockiron([...base, '--signing-time', bad]);
      expect(r.code, bad.slice(0, 20)).toBe(1);
      expect(r.stderr).toMatch(/--signing-time/);
      expect(r.stdoutBytes.length).toBe(0);
      expect(r.stderr.length).toBeLessThan(300);
    }
    for (const bad of ['-1', '1.5', 'now', '99999999999999']) {
      const r = await mockiron(base, { SOURCE_DATE_EPOCH: bad });
      expect(r.code, bad).toBe(1);
      expect(r.stderr).toContain('SOURCE_DATE_EPOCH');
    }
    const nowhere = await mockiron(['profile', 'sign', 'profiles/ikev2.mobileconfig', ...KEY_ARGS]);
    expect(nowhere.code).toBe(2); // a usage error: no -o
    expect(nowhere.stderr).toContain('-o FILE, or -o - for standard output');
    const unsigned = await mockiron(['profile', 'build', 'profiles/ikev2.yaml', '--signing-time', PINNED]);
    expect(unsigned.code).toBe(1);
    expect(unsigned.stderr).toContain('add --sign');
  });
});

function writeTemp(name: string, bytes: Buffer): string {
  const file = join(temp.dir, name);
  writeFileSync(file, bytes);
  return file;
}

describe('the golden signed profiles in profiles/signed/', () => {
  const readme = readFileSync(join(ROOT, 'profiles/signed/README.md'), 'utf8');
  const goldenNames = readdirSync(join(ROOT, 'profiles/signed'))
    .filter((f) => f.endsWith('.mobileconfig'))
    .sort();

  it('rebuilding with the README’s command, exactly as written, changes no byte; openssl verifies each one', async () => {
    const commands = documentedCommands(readme);
    expect(commands).toHaveLength(1);
    expect(goldenNames.length).toBeGreaterThanOrEqual(6);
    const before = new Map(goldenNames.map((f) => [f, readFileSync(join(ROOT, 'profiles/signed', f))]));
    const rebuilt = await mockiron(commands[0]!);
    const after = new Map(goldenNames.map((f) => [f, readFileSync(join(ROOT, 'profiles/signed', f))]));
    // a failure must not leave changed goldens behind: put the checked-in bytes back
    for (const [f, bytes] of before) if (!after.get(f)!.equals(bytes)) writeFileSync(join(ROOT, 'profiles/signed', f), bytes);
    ok(rebuilt);
    for (const [f, bytes] of before) expect(after.get(f)!.equals(bytes), `${f} changed when rebuilt`).toBe(true);
    for (const f of goldenNames) {
      const judged = opensslCmsVerify(temp.dir, before.get(f)!, CA_PEM, { purposeAny: false });
      expect(judged.ok, `${f}: ${judged.stderr}`).toBe(true);
      expect(judged.content!.equals(readFileSync(join(ROOT, 'profiles', f))), `${f} signs the unsigned profile`).toBe(true);
    }
  });

  it('the same instant as SOURCE_DATE_EPOCH, as the README says, gives the same bytes', async () => {
    expect(readme).toContain(`SOURCE_DATE_EPOCH=${PINNED_EPOCH}`);
    const r = ok(
      await mockiron(['profile', 'build', 'profiles/vpndemo-external.yaml', '--sign', ...KEY_ARGS, '-o', '-'], {
        SOURCE_DATE_EPOCH: PINNED_EPOCH,
      }),
    );
    expect(r.stdoutBytes.equals(readFileSync(join(ROOT, 'profiles/signed/vpndemo-external.mobileconfig')))).toBe(true);
  });

  it('the README’s openssl check passes as written', () => {
    const line = readme.split('\n').find((l) => l.startsWith('openssl cms -verify'))!;
    const result = run('openssl', line.split(' ').slice(1));
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toContain('Verification successful');
  });
});

describe('profile verify on input that is not signed', () => {
  it('says "not signed" for an unsigned XML or binary plist, with its own exit code, instead of a CMS parse error', async () => {
    const xml = await mockiron(['profile', 'verify', 'profiles/l2tp.mobileconfig', '--ca', `${IDENTITY}/ca.pem`]);
    expect(xml.code).toBe(7);
    expect(xml.stderr).toBe(
      'mockiron: profiles/l2tp.mobileconfig: not signed: it is an unsigned XML plist (sign it with `mockiron profile sign`)\n',
    );
    const bplist = writeTemp('binary.plist', Buffer.concat([Buffer.from('bplist00'), Buffer.alloc(40)]));
    const binary = await mockiron(['profile', 'verify', bplist, '--ca', `${IDENTITY}/ca.pem`]);
    expect(binary.code).toBe(7);
    expect(binary.stderr).toContain('not signed: it is an unsigned binary plist');
    // garbage is still a malformed signature, exit 1
    const garbage = await mockiron([
      'profile',
      'verify',
      writeTemp('garbage.der', Buffer.from('\x30\x03\x02\x01')),
      '--ca',
      `${IDENTITY}/ca.pem`,
    ]);
    expect(garbage.code).toBe(1);
    expect(garbage.stderr).toMatch(/verification failed \[MALFORMED\]/);
  });

  it('-o - puts the verified content on stdout and the report on stderr', async () => {
    const r = ok(await mockiron(['profile', 'verify', 'profiles/signed/l2tp.mobileconfig', '--ca', `${IDENTITY}/ca.pem`, '-o', '-']));
    expect(r.stdoutBytes.equals(readFileSync(join(ROOT, 'profiles/l2tp.mobileconfig')))).toBe(true);
    expect(r.stderr).toMatch(/Signature:\s+valid/);
    expect(r.stderr).toContain('Signed at:   2027-01-01T00:00:00Z');
  });
});
