// Device listing: GET /api/v2/devices?limit=50 over 10,000 devices, 50 connections, Basic auth
// as an admin script sends it, against an express hello-world route driven by the same load
// generator in the same run (each server in its own process). Run alone with `npx tsx bench/list.ts`.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { benchAuth, serveMockiron, start } from './http.js';
import type { BenchRow } from './signing.js';

const DEVICE_COUNT = 10_000;
const CONNECTIONS = 50;

interface Load {
  rps: number;
  p99: number;
}

async function load(url: string, headers: Record<string, string>, seconds: number): Promise<Load> {
  const result = await autocannon({ url, headers, connections: CONNECTIONS, duration: seconds, pipelining: 1 });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { rps: result.requests.average, p99: result.latency.p99 };
}

/** 10,000 devices as one CSV import (the most one import takes): varied platforms, versions, models and users' absence. */
function csv(count: number): string {
  const lines = ['platform,ownership,serialNumber,model,osVersion,deviceName'];
  for (let i = 0; i < count; i++) {
    const ios = i % 5 !== 0;
    lines.push(
      [
        ios ? 'iOS' : 'Android',
        i % 3 === 0 ? 'EMPLOYEE' : 'COMPANY',
        `LIST${String(i).padStart(6, '0')}`,
        ios ? (i % 2 ? 'iPad Pro' : 'iPhone 15') : 'Pixel 8',
        `${9 + (i % 9)}.${i % 4}`,
        `Device ${i}`,
      ].join(','),
    );
  }
  return lines.join('\n') + '\n';
}

export async function benchList(seconds = 5, count = DEVICE_COUNT): Promise<BenchRow[]> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'mockiron-bench-list-'));
  const auth = benchAuth;
  const procs: ChildProcess[] = [];
  try {
    const server = await serveMockiron(dataDir);
    procs.push(server.child);
    const base = `${server.origin}/api/v2`;
    const imported = await fetch(`${base}/devices/bulk`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'text/csv' },
      body: csv(count),
    });
    if (imported.status !== 201) throw new Error(`import: ${imported.status} ${(await imported.text()).slice(0, 300)}`);
    const listUrl = `${base}/devices?limit=50`;
    const first = (await (await fetch(listUrl, { headers: { authorization: auth } })).json()) as { totalCount: number };
    if (first.totalCount !== count) throw new Error(`list: totalCount ${first.totalCount}, expected ${count}`);

    const hello = await start('node', ['bench/hello-server.mjs'], {}, /PORT (\d+)/);
    procs.push(hello.child);
    const helloUrl = `http://127.0.0.1:${hello.match[1]}/hello`;
    // warm both, then alternate so drift hits both alike; the better of two runs each
    await load(helloUrl, {}, 1);
    await load(listUrl, { authorization: auth }, 1);
    const best = (a: Load, b: Load) => (a.rps >= b.rps ? a : b);
    const helloLoad = best(await load(helloUrl, {}, seconds), await load(helloUrl, {}, seconds));
    const listLoad = best(await load(listUrl, { authorization: auth }, seconds), await load(listUrl, { authorization: auth }, seconds));
    const sortedUrl = `${base}/devices?limit=50&offset=5000&sortField=common.os_version&sortOrder=DESC`;
    const searchUrl = `${base}/devices?limit=50&query=${encodeURIComponent('common.platform = "iOS" AND common.model contains "iPad"')}`;
    const sortedLoad = await load(sortedUrl, { authorization: auth }, seconds);
    const searchLoad = await load(searchUrl, { authorization: auth }, seconds);
    const ratio = (l: Load) => Math.round((l.rps / helloLoad.rps) * 100) / 100;
    return [
      {
        name: `express hello-world, ${CONNECTIONS} connections`,
        value: Math.round(helloLoad.rps),
        unit: `req/s (p99 ${helloLoad.p99} ms)`,
      },
      {
        name: `GET /devices?limit=50, ${count} devices (target >= 0.25)`,
        value: Math.round(listLoad.rps),
        unit: `req/s (p99 ${listLoad.p99} ms)`,
        baseline: Math.round(helloLoad.rps),
        ratio: ratio(listLoad),
      },
      {
        name: `same, sortField=common.os_version DESC, offset=5000`,
        value: Math.round(sortedLoad.rps),
        unit: `req/s (p99 ${sortedLoad.p99} ms)`,
        baseline: Math.round(helloLoad.rps),
        ratio: ratio(sortedLoad),
      },
      {
        name: `same, query= iOS iPads (criteria over every device)`,
        value: Math.round(searchLoad.rps),
        unit: `req/s (p99 ${searchLoad.p99} ms)`,
        baseline: Math.round(helloLoad.rps),
        ratio: ratio(searchLoad),
      },
    ];
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  for (const r of await benchList(5, Number(process.env.BENCH_DEVICES ?? DEVICE_COUNT))) {
    const vs = r.ratio === undefined ? '' : `   baseline ${r.baseline}   ratio ${r.ratio}`;
    console.log(`${r.name}: ${r.value} ${r.unit}${vs}`);
  }
}
