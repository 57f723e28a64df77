// docs/qa.md's offline command lines, run exactly as written (each `mockiron …` line of its sh
// blocks, split on spaces: none is quoted), each expected to succeed (`bash` blocks need a running
// server and a simulator; the e2e test the page names next to each runs them); the two signing commands must print
// the golden file's bytes, which `openssl cms -verify` (test/cli/reproducible-signing.test.ts)
// accepts. A page whose commands drift from the CLI fails here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../helpers/cli.js';

const guide = readFileSync(join(ROOT, 'docs/qa.md'), 'utf8');
const commands = [...guide.matchAll(/```sh\n([\s\S]*?)```/g)]
  .flatMap((m) => m[1]!.split('\n'))
  .filter((line) => line.startsWith('mockiron '))
  .map((line) => line.split(' ').slice(1));

describe('docs/qa.md', () => {
  it('documents at least the build, sign, verify, lint, matrix and flag commands', () => {
    expect(commands.length).toBeGreaterThanOrEqual(10);
  });

  it.each(commands.map((c) => [c.join(' '), c] as const))('%s', async (_line, args) => {
    const r = await runCli([...args], { env: { ...process.env, SOURCE_DATE_EPOCH: undefined, MOCKIRON_DATA_DIR: undefined } });
    expect(r.code, r.stderr).toBe(0);
    if (args.includes('--signing-time') && args.at(-1) === '-') {
      expect(r.stdoutBytes.equals(readFileSync(join(ROOT, 'profiles/signed/ikev2.mobileconfig')))).toBe(true);
    }
  });
});
