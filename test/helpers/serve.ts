// `mockiron serve` as a child process, the way a newcomer starts it: on a free port, its log on
// stdout, its URL read from the "mockiron listening" line.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface ServedProcess {
  child: ChildProcess;
  /** The URL the server listens on, once it says so; rejects if it exits first. */
  url: Promise<string>;
  exit: Promise<number | null>;
  /** SIGTERM, then the exit code. */
  stop: () => Promise<number | null>;
  /** Everything written to stdout and stderr so far. */
  output: () => string;
}

export function spawnServe(dataDir: string, options: { flags?: string[]; env?: Record<string, string> } = {}): ServedProcess {
  const args = ['bin/mockiron.js', 'serve', '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, ...(options.flags ?? [])];
  const child = spawn('node', args, { cwd: root, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (b) => (out += b));
  child.stderr!.on('data', (b) => (out += b));
  const url = new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out);
      if (m) {
        clearInterval(timer);
        resolve(m[1]!);
      }
    }, 50);
    child.once('exit', (code) => {
      clearInterval(timer);
      reject(new Error(`exited ${code}: ${out}`));
    });
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    url,
    exit,
    stop: () => {
      child.kill('SIGTERM');
      return exit;
    },
    output: () => out,
  };
}
