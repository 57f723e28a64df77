// README's "Profiles from the command line" commands, run in order exactly as written (the text
// before a `#` comment, split on spaces: none is quoted), each expected to succeed; the signed
// one must be what openssl accepts. A README that drifts from the CLI fails here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../helpers/cli.js';
import { opensslCmsVerify, tempDir } from '../unit/signing/helpers.js';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## Profiles from the command line (QA)'));
const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!;
const commands = block
  .split('\n')
  .map((line) => line.replace(/\s+#.*$/, '').trim())
  .filter((line) => line.startsWith('mockiron '))
  .map((line) => line.split(' ').slice(1));

describe("README's profile command lines", () => {
  it('run in order, each exits 0', async () => {
    expect(commands.length).toBeGreaterThanOrEqual(12);
    for (const args of commands) {
      const r = await runCli(args, { env: { ...process.env, SOURCE_DATE_EPOCH: undefined, MOCKIRON_DATA_DIR: undefined } });
      expect(r.code, `mockiron ${args.join(' ')}\n${r.stderr}`).toBe(0);
    }
    const temp = tempDir();
    try {
      const judged = opensslCmsVerify(
        temp.dir,
        readFileSync(join(ROOT, '.tmp/signed.mobileconfig')),
        readFileSync(join(ROOT, 'profiles/signed/qa-identity/ca.pem'), 'utf8'),
      );
      expect(judged.ok, judged.stderr).toBe(true);
      expect(
        readFileSync(join(ROOT, '.tmp/signed.mobileconfig')).equals(readFileSync(join(ROOT, 'profiles/signed/ikev2.mobileconfig'))),
      ).toBe(true);
    } finally {
      temp.cleanup();
    }
  });
});
