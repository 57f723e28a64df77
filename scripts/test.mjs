// `npm test`: the static checks (tsc, eslint, prettier — `npm run check`) run next to the test
// suite instead of before it. On two cores the suite leaves CPU idle much of the time (servers
// starting, timers, spawned binaries) and the checks fill it. The suite's output streams as it
// runs; the checks' output is printed when the suite is done. Any failure fails `npm test`.
// Arguments go to vitest: `npm test -- test/cli`.
import { spawn } from 'node:child_process';

function run(command, args, options) {
  return new Promise((resolve) => {
    const child = spawn(command, args, options);
    let output = '';
    child.stdout?.on('data', (chunk) => (output += chunk));
    child.stderr?.on('data', (chunk) => (output += chunk));
    child.on('error', (err) => resolve({ code: 1, output: `${output}${err.message}\n` }));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output }));
  });
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const checks = run(npm, ['run', '--silent', 'check'], { stdio: ['ignore', 'pipe', 'pipe'] });
const suite = run(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', ...process.argv.slice(2)], { stdio: 'inherit' });

const [checked, tested] = await Promise.all([checks, suite]);
process.stdout.write(`\n${checked.output}`);
process.stdout.write(checked.code === 0 ? 'checks passed: typecheck, lint, format\n' : `checks FAILED (exit ${checked.code})\n`);
process.exitCode = checked.code || tested.code;
