// `npm run bench:mdm`: mockiron on a temporary SQLite database (durability on: every write is
// answered after an fsync of the WAL, docs/performance.md) driven by the device simulator over
// the real protocol. Reports enrollments per
// second, check-in/command round trips per second, p50/p99 latency and server RSS, and, in
// the same run, an express hello-world route's requests per second as the baseline. Then it
// checks that every device is ACTIVE and fully configured, and that no command was lost or
// delivered twice.
//   BENCH_DEVICES=1000 BENCH_CONCURRENCY=50 npm run bench:mdm
import { spawn, type ChildProcess } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { signMdmRequest } from '../src/lib/mdm-protocol/index.js';
import { toXmlPlist } from '../src/lib/plist/index.js';
import type { FleetState } from '../src/simulator/state.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const devices = Number(process.env.BENCH_DEVICES ?? 1000);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 50);
const pollSeconds = Number(process.env.BENCH_POLL_SECONDS ?? 15);
const password = 'bench-mdm-admin-password';
// BENCH_PROFILE=DIR writes V8 CPU profiles of the server and simulator processes into DIR.
const profileArgs = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
const auth = `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;

function freePort(): Promise<number> {
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
 * The server's own latencies, from its access log (one JSON line per request with durationMs
 * and, on device endpoints, the MDM message or SCEP operation): time inside the server, without
 * the simulator's queueing. Grouped per phase of the run.
 */
const serverLatency = { phase: 'start', byPhase: new Map<string, Map<string, number[]>>() };
function noteAccessLine(line: string): void {
  if (!line.includes('"msg":"request"')) return;
  let entry: { method?: string; path?: string; operation?: string; durationMs?: number };
  try {
    entry = JSON.parse(line);
  } catch {
    return;
  }
  if (typeof entry.durationMs !== 'number') return;
  const key = `${entry.method} ${entry.path}${entry.operation ? ` ${entry.operation}` : ''}`;
  let phase = serverLatency.byPhase.get(serverLatency.phase);
  if (!phase) serverLatency.byPhase.set(serverLatency.phase, (phase = new Map()));
  let list = phase.get(key);
  if (!list) phase.set(key, (list = []));
  list.push(entry.durationMs);
}
function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
/** `key n p50/p99/max` per request kind seen in a phase, busiest first. */
function serverLatencySummary(phase: string): string[] {
  const kinds = [...(serverLatency.byPhase.get(phase) ?? new Map<string, number[]>()).entries()].sort((a, b) => b[1].length - a[1].length);
  return kinds.map(([k, v]) => {
    const sorted = [...v].sort((a, b) => a - b);
    return `${k}: ${v.length}, p50 ${percentile(sorted, 50)} / p99 ${percentile(sorted, 99)} / max ${sorted[sorted.length - 1]} ms`;
  });
}

function startProcess(
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
  onLine?: (line: string) => void,
): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const onData = (b: Buffer) => {
      out = (out + b.toString()).slice(-20_000);
      const m = out.match(ready);
      if (!m) return;
      // Ready: from here the access log writes a line per request; read by onLine, or drained.
      for (const stream of [child.stdout!, child.stderr!]) {
        stream.off('data', onData);
        let partial = '';
        stream.on(
          'data',
          onLine
            ? (chunk: Buffer) => {
                const lines = (partial + chunk.toString()).split('\n');
                partial = lines.pop()!;
                for (const line of lines) onLine(line);
              }
            : () => {},
        );
      }
      resolve({ child, match: m });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}: ${out.slice(-1000)}`)));
  });
}

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...profileArgs, 'bin/mockiron.js', ...args], {
      cwd: root,
      env: { ...process.env, MOCKIRON_ADMIN_PASSWORD: password },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** CPU time (user + system) a process has used so far, in ms (Linux /proc; clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'mockiron-bench-mdm-'));
const procs: ChildProcess[] = [];
try {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = await startProcess(
    [
      ...profileArgs,
      'bin/mockiron.js',
      'serve',
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
      '--public-url',
      base,
      '--data-dir',
      dataDir,
      '--log-level',
      'info',
    ],
    { MOCKIRON_ADMIN_PASSWORD: password },
    /mockiron listening/,
    noteAccessLine,
  ).catch(async () => {
    throw new Error('server did not start');
  });
  procs.push(server.child);
  const call = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`${base}/api/v2${p}`, {
      method,
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
    return (await res.json()) as { results: Record<string, unknown>; totalCount?: number };
  };
  // The seed scenario on a filter label every iOS device is in, so enrolled devices get it at once.
  const label = (await call('POST', '/labels', { name: 'bench iOS', static: false, criteria: 'common.platform = "iOS"' })).results.id;
  const vpn = await call('POST', '/configurations/vpn', {
    name: 'vpndemo-external',
    connectionType: 'ANYCONNECT',
    server: 'asa.example.com',
    perApp: true,
    safariDomains: ['example.com'],
  });
  await call('PUT', `/configurations/vpn/${vpn.results.id}/labels/${label}`);
  for (const [name, bundleId] of [
    ['Chrome', 'com.google.chrome.ios'],
    ['Microsoft RDP', 'com.microsoft.rdc.ios'],
  ]) {
    const app = await call('POST', '/appstore/apps', { name, bundleId });
    await call('PUT', `/appstore/apps/${app.results.id}/labels/${label}`);
  }

  const state = path.join(dataDir, 'fleet.json');
  console.log(`enrolling ${devices} devices (concurrency ${concurrency})...`);
  serverLatency.phase = 'enrollment';
  const enrollStart = performance.now();
  const enroll = await run([
    'simulate',
    '--server',
    base,
    '--devices',
    String(devices),
    '--concurrency',
    String(concurrency),
    '--iterations',
    '4',
    '--poll-interval',
    '0',
    '--state',
    state,
    '--pregenerate-keys',
    '--json',
  ]);
  if (!enroll.stdout.trim().startsWith('{')) throw new Error(`simulate failed: ${enroll.stderr.slice(-2000)}`);
  const enrollSummary = JSON.parse(enroll.stdout);
  // The devices' RSA keys are made before the run (--pregenerate-keys): their time is the
  // simulator's, so it is reported apart and left out of the enrollment time.
  const keySeconds: number = enrollSummary.keysPregenerated?.seconds ?? 0;
  const enrollSeconds = (performance.now() - enrollStart) / 1000 - keySeconds;

  // Command traffic for the poll phase: DeviceInformation for every device (the Core action,
  // in batches of the API's 1000), so round trips include results, device updates and their
  // per-device reconciliation, not only empty polls.
  const openDb = () => new Database(path.join(dataDir, 'mockiron.db'), { readonly: true });
  const count = (sql: string) => {
    const db = openDb();
    try {
      return (db.prepare(sql).get() as { n: number }).n;
    } finally {
      db.close();
    }
  };
  const uuids = (() => {
    const db = openDb();
    try {
      return (db.prepare(`SELECT uuid FROM Device WHERE status = 'ACTIVE'`).all() as { uuid: string }[]).map((r) => r.uuid);
    } finally {
      db.close();
    }
  })();
  for (let i = 0; i < uuids.length; i += 1000) {
    await call('POST', '/devices/action?actionType=UPDATE_DEVICE_INFO', { deviceUuids: uuids.slice(i, i + 1000), note: 'bench:mdm' });
  }
  const openSql = `SELECT count(*) AS n FROM MdmCommand WHERE status IN ('Queued','Sent','NotNow')`;

  // Poll until no command is open (at most BENCH_MAX_POLL_ROUNDS rounds of BENCH_POLL_SECONDS).
  const maxRounds = Number(process.env.BENCH_MAX_POLL_ROUNDS ?? 4);
  const pollSummaries: Array<{
    elapsedSeconds: number;
    latency: Record<string, { count: number; p50: number; p99: number }>;
    errors: { total: number; samples: string[] };
    duplicateDeliveries: number;
  }> = [];
  for (let round = 1; round <= maxRounds; round++) {
    console.log(`polling for ${pollSeconds} s (round ${round}, ${count(openSql)} commands open)...`);
    serverLatency.phase = `poll round ${round}`;
    const poll = await run([
      'simulate',
      '--server',
      base,
      '--devices',
      String(devices),
      '--concurrency',
      String(concurrency),
      '--duration',
      String(pollSeconds),
      '--poll-interval',
      '0',
      '--state',
      state,
      '--json',
    ]);
    if (!poll.stdout.trim().startsWith('{')) throw new Error(`simulate failed: ${poll.stderr.slice(-2000)}`);
    pollSummaries.push(JSON.parse(poll.stdout));
    if (count(openSql) === 0) break;
  }
  const pollSummary = pollSummaries[0]!;
  const rss = rssMb(server.child.pid!);

  // The same Idle polls from the same client as the baseline (autocannon), so the ratio compares
  // servers and not clients: the simulator signs every request with RSA-2048 on the cores the
  // server uses. Each poll is signed once by the fleet's own device identity; the server still
  // verifies every request in full (Mdm-Signature carries no nonce, so a resent one is valid).
  const fleet = JSON.parse(readFileSync(state, 'utf8')) as FleetState;
  const requests = fleet.devices
    .filter((d) => d.status === 'enrolled' && d.mdm)
    .slice(0, 100)
    .map((d) => {
      const body = Buffer.from(toXmlPlist({ UDID: d.identity.udid, Status: 'Idle' }), 'utf8');
      const signer = {
        privateKey: createPrivateKey(d.mdm!.identityKeyPem),
        certificate: new X509Certificate(d.mdm!.identityCertificatePem),
      };
      return {
        method: 'PUT' as const,
        path: new URL(d.mdm!.serverUrl).pathname,
        headers: { 'content-type': 'application/x-apple-aspen-mdm', 'mdm-signature': signMdmRequest(body, signer) },
        body,
      };
    });
  serverLatency.phase = 'replay';
  const serverCpuBefore = cpuMs(server.child.pid!);
  const replay = await autocannon({ url: base, connections: concurrency, duration: 5, requests });
  const serverCpuPerPoll = (cpuMs(server.child.pid!) - serverCpuBefore) / replay.requests.total;
  if (replay.non2xx > 0 || replay.errors > 0) throw new Error(`replayed polls failed: ${replay.non2xx} non-2xx, ${replay.errors} errors`);

  // Baseline: hello-world in its own process, same machine, same run.
  const hello = await startProcess(['bench/hello-server.mjs'], {}, /PORT (\d+)/);
  procs.push(hello.child);
  const helloCpuBefore = cpuMs(hello.child.pid!);
  const helloResult = await autocannon({ url: `http://127.0.0.1:${hello.match[1]}/hello`, connections: concurrency, duration: 5 });
  const helloCpuPerRequest = (cpuMs(hello.child.pid!) - helloCpuBefore) / helloResult.requests.total;
  const helloRps = helloResult.requests.average;

  // Correctness: every device ACTIVE and configured; no command lost or duplicated.
  const active = count(`SELECT count(*) AS n FROM Device WHERE status = 'ACTIVE'`);
  const open = count(openSql);
  const duplicated = count(
    `SELECT count(*) AS n FROM (SELECT deviceRef, purpose FROM MdmCommand WHERE status = 'Acknowledged' AND purpose IS NOT NULL GROUP BY deviceRef, purpose HAVING count(*) > 1)`,
  );
  const configured = count(
    `SELECT count(*) AS n FROM Device WHERE mdmState LIKE '%vpnProfile%' AND mdmState LIKE '%com.google.chrome.ios%' AND mdmState LIKE '%com.microsoft.rdc.ios%'`,
  );
  const informed = count(
    `SELECT count(*) AS n FROM MdmCommand WHERE requestType = 'DeviceInformation' AND origin = 'action' AND status = 'Acknowledged'`,
  );
  const redelivered = [enrollSummary, ...pollSummaries].reduce((n, x) => n + (x.duplicateDeliveries ?? 0), 0);

  // Round trips of the first poll round: the one with the DeviceInformation traffic.
  const roundTrips = (pollSummary.latency['connect-idle']?.count ?? 0) + (pollSummary.latency['connect-result']?.count ?? 0);
  const rtps = roundTrips / pollSummary.elapsedSeconds;
  const results = pollSummary.latency['connect-result'] ?? { count: 0, p50: NaN, p99: NaN };
  const lat = pollSummary.latency['connect-idle'] ?? { p50: NaN, p99: NaN };
  const rows: Array<[string, string]> = [
    ['devices enrolled and configured', `${configured} of ${devices} (ACTIVE ${active})`],
    [
      'device keys made before the run (simulator, not counted below)',
      `${enrollSummary.keysPregenerated?.count ?? 0} RSA-2048 keys in ${keySeconds.toFixed(1)} s`,
    ],
    [
      'enrollment run (OTA + SCEP + check-in + configuration)',
      `${enrollSeconds.toFixed(1)} s, ${(devices / enrollSeconds).toFixed(1)} enrollments/s`,
    ],
    [
      'enrollment p50 / p99 (per request kind, ms)',
      Object.entries(enrollSummary.latency)
        .map(([k, v]) => `${k} ${(v as { p50: number }).p50}/${(v as { p99: number }).p99}`)
        .join(', '),
    ],
    [
      'round trips driven by the simulator (it signs each one)',
      `${rtps.toFixed(0)} /s (Idle p50 ${lat.p50} ms, p99 ${lat.p99} ms; ${results.count} results p50 ${results.p50} ms, p99 ${results.p99} ms)`,
    ],
    [
      'round trips from autocannon (Idle polls, verified in full)',
      `${replay.requests.average.toFixed(0)} /s (p50 ${replay.latency.p50} ms, p99 ${replay.latency.p99} ms)`,
    ],
    ['express hello-world from autocannon (baseline)', `${helloRps.toFixed(0)} req/s`],
    ['ratio autocannon round trips / hello-world (target >= 0.3)', (replay.requests.average / helloRps).toFixed(3)],
    ['ratio simulator round trips / hello-world', (rtps / helloRps).toFixed(3)],
    [
      'server CPU per replayed Idle poll / per hello-world request',
      `${(serverCpuPerPoll * 1000).toFixed(0)} µs / ${(helloCpuPerRequest * 1000).toFixed(0)} µs (ratio ${(helloCpuPerRequest / serverCpuPerPoll).toFixed(2)})`,
    ],
    ['server RSS after the run', `${rss} MB`],
    ['DeviceInformation (UPDATE_DEVICE_INFO) acknowledged', `${informed} of ${uuids.length}, poll rounds ${pollSummaries.length}`],
    ['commands still open / acknowledged twice / delivered again', `${open} / ${duplicated} / ${redelivered}`],
    ['simulator errors (enroll run, poll rounds)', [enrollSummary, ...pollSummaries].map((x) => x.errors.total).join(', ')],
  ];
  for (const [k, v] of rows) console.log(`${k.padEnd(58)} ${v}`);
  // Inside the server (its access log), without the simulator's own queueing.
  for (const phase of ['enrollment', 'poll round 1', 'replay']) {
    console.log(`server-side latency, ${phase}:`);
    for (const line of serverLatencySummary(phase)) console.log(`  ${line}`);
  }
  for (const x of [enrollSummary, ...pollSummaries]) for (const sample of x.errors.samples.slice(0, 3)) console.log(`  error: ${sample}`);
  if (configured !== devices || duplicated > 0 || open > 0 || redelivered > 0 || informed !== uuids.length) process.exitCode = 1;
} finally {
  for (const p of procs) p.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
}
