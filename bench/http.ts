// Requests per second of the profile endpoint (warm cache, Basic auth as an admin script
// sends it) against an express hello-world route, both served by their own process on this
// machine and driven by the same load generator in the same run.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import type { BenchRow } from './signing.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

export function start(
  cmd: string,
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const onData = (b: Buffer) => {
      out += b.toString();
      const m = out.match(ready);
      if (!m) return;
      // Ready: from here the access log writes a line per request; drain it unread.
      for (const stream of [child.stdout!, child.stderr!]) {
        stream.off('data', onData);
        stream.on('data', () => {});
      }
      resolve({ child, match: m });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${cmd} exited with ${code}: ${out.slice(-500)}`)));
  });
}

/** The admin password every bench server starts with, and its Basic header. */
export const benchPassword = 'bench-admin-password-1';
export const benchAuth = `Basic ${Buffer.from(`admin:${benchPassword}`).toString('base64')}`;

/** `mockiron serve` on a free port with this data directory; `origin` is its http://127.0.0.1:PORT. */
export async function serveMockiron(dataDir: string): Promise<{ child: ChildProcess; origin: string }> {
  const server = await start(
    'node',
    [
      // BENCH_PROFILE=DIR: a V8 CPU profile of each server process, written into DIR when it stops.
      ...(process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : []),
      'bin/mockiron.js',
      ...['serve', '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--log-level', 'info'],
    ],
    { MOCKIRON_ADMIN_PASSWORD: benchPassword },
    /"url":"(http:\/\/127\.0\.0\.1:\d+)"/,
  );
  return { child: server.child, origin: server.match[1]! };
}

async function load(url: string, headers: Record<string, string>, seconds: number): Promise<number> {
  const result = await autocannon({ url, headers, connections: 20, duration: seconds, pipelining: 1 });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return result.requests.average;
}

export async function benchHttp(seconds = 5): Promise<BenchRow[]> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'mockiron-bench-http-'));
  const auth = benchAuth;
  const procs: ChildProcess[] = [];
  try {
    const server = await serveMockiron(dataDir);
    procs.push(server.child);
    const base = `${server.origin}/api/v2`;
    const call = async (method: string, p: string, body?: unknown) => {
      const res = await fetch(base + p, {
        method,
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: body ? JSON.stringify(body) : undefined,
      });
      if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
      return res.json() as Promise<{ results: Record<string, unknown> }>;
    };
    const label = (await call('POST', '/labels', { name: 'vpndemo-external', static: true })).results.id;
    const vpn = (
      await call('POST', '/configurations/vpn', {
        name: 'vpndemo-external',
        connectionType: 'ANYCONNECT',
        server: 'asa.example.com',
        safariDomains: ['example.com'],
      })
    ).results.id;
    await call('PUT', `/configurations/vpn/${vpn}/labels/${label}`);
    const uuid = (await call('POST', '/devices', { platform: 'iOS', osVersion: '9.3.1', model: 'iPad4,1' })).results[
      'common.uuid'
    ] as string;
    await call('PUT', '/devices/labels/vpndemo-external/add', { deviceUuids: [uuid] });

    const hello = await start('node', ['bench/hello-server.mjs'], {}, /PORT (\d+)/);
    procs.push(hello.child);
    const helloUrl = `http://127.0.0.1:${hello.match[1]}/hello`;
    const profileUrl = `${base}/devices/${uuid}/profiles/vpn`;
    // warm both, then alternate so drift hits both alike
    await load(helloUrl, {}, 1);
    await load(profileUrl, { authorization: auth }, 1);
    const helloRps = Math.max(await load(helloUrl, {}, seconds), await load(helloUrl, {}, seconds));
    const profileRps = Math.max(
      await load(profileUrl, { authorization: auth }, seconds),
      await load(profileUrl, { authorization: auth }, seconds),
    );
    return [
      { name: 'express hello-world', value: Math.round(helloRps), unit: 'req/s' },
      {
        name: 'GET /devices/{uuid}/profiles/vpn, warm, Basic auth (target >= 0.5)',
        value: Math.round(profileRps),
        unit: 'req/s',
        baseline: Math.round(helloRps),
        ratio: Math.round((profileRps / helloRps) * 100) / 100,
      },
    ];
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  }
}
