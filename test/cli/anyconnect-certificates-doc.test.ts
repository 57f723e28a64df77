// docs/anyconnect-certificates.md's command lines ("From the command line"), run in order exactly
// as written from the repository's root: the openssl lines with bash, the mockiron lines through
// run(argv, io) (split on spaces: none is quoted). A line commented `# exit 3` must exit 3, every
// other one 0; the first simulation must show what the page says it shows.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../helpers/cli.js';

const page = readFileSync(join(ROOT, 'docs/anyconnect-certificates.md'), 'utf8');
const section = page.slice(page.indexOf('## From the command line'));
const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!;
const lines = block
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => {
    const [command, comment = ''] = line.split(/\s+#\s+/);
    return { command: command!.trim(), expected: /exit 3/.test(comment) ? 3 : 0 };
  });

describe('docs/anyconnect-certificates.md', () => {
  it('runs as written: openssl makes the certificates, mockiron accepts one and refuses the missing one', async () => {
    expect(lines.filter((l) => l.command.startsWith('mockiron ')).length).toBe(3);
    const outputs: string[] = [];
    for (const { command, expected } of lines) {
      if (command.startsWith('mockiron ')) {
        const r = await runCli(command.split(' ').slice(1));
        expect(r.code, `${command}\n${r.stderr}`).toBe(expected);
        outputs.push(r.stdout);
      } else {
        execFileSync('bash', ['-c', command], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
      }
    }
    expect(outputs[0]).toContain("username: 'ipad-7' from the certificate's CN");
    expect(outputs[0]).toMatch(/DAP 'Field_devices' selected/);
    expect(outputs[0]).toMatch(/TUNNELED: 'com.example.mail' on Android/);
    expect(outputs[1]).toMatch(/refused the connection \(missing\)/);
    expect(outputs[2]).toContain('tunnel-group TG_cert webvpn-attributes\n authentication certificate');
  });
});
