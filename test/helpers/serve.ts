// The mockiron binary as a child process: `serve` the way a newcomer starts it: on a free port, its log on
// stdout, its URL read from the "mockiron listening" line.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
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

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real binary once, without blocking this process (a server's log pipe must keep draining). */
export function runMockiron(args: string[], options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'bin/mockiron.js'), ...args], {
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mockiron ${args.join(' ')} timed out\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A TCP port free on 127.0.0.1 right now (for a server whose public URL must name its port). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/**
 * An admin's JSON calls to a served mockiron (Basic auth). `base` is read at each call: tests
 * learn the URL in beforeAll. `api` answers status and parsed body; `apiOk` the body of a 2xx.
 */
export function adminJson(base: () => string, password: string) {
  const authorization = `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;
  async function api(method: string, pathname: string, body?: unknown): Promise<{ status: number; json: any }> {
    const res = await fetch(`${base()}${pathname}`, {
      method,
      headers: { authorization, accept: 'application/json', ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  }
  async function apiOk(method: string, pathname: string, body?: unknown): Promise<any> {
    const res = await api(method, pathname, body);
    if (res.status >= 300) throw new Error(`${method} ${pathname}: ${res.status} ${JSON.stringify(res.json)}`);
    return res.json;
  }
  return { api, apiOk };
}
