// Property-based requests generated from the server's own OpenAPI document against every
// admin API operation: path parameters, queries and bodies of the declared shapes and of wrong
// ones (random and prototype keys, huge and non-UTF-8 strings, malformed JSON, other media
// types), as the admin, a viewer or nobody. Every answer must be documented (status, media type,
// JSON schema), never a 5xx, within a time bound, and a refused request must leave the data as
// it was. Seeded: FUZZ_SEED and FUZZ_RUNS (per operation) make a run repeatable or bigger.
import type { Server } from 'node:http';
import fc from 'fast-check';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminPassword, rawBody, removeDir, startTestApp, type TestApp } from '../helpers/app.js';
import { dataFingerprint, DocumentChecker, resolveRefs, type Answer, type Json, type Operation } from '../helpers/openapi.js';

const seed = Number(process.env.FUZZ_SEED ?? 20261202);
const runsPerOperation = Number(process.env.FUZZ_RUNS ?? 10);
const maxMs = Number(process.env.FUZZ_MAX_MS ?? 3000);
const viewerPassword = 'fuzz-viewer-password';

type Who = 'admin' | 'viewer' | 'none';
type Body = { kind: 'none' } | { kind: 'json'; value: unknown } | { kind: 'raw'; bytes: string | Buffer; type: string };

interface FuzzRequest {
  who: Who;
  /** Path segments already encoded (a few deliberately malformed, e.g. %FF). */
  params: Record<string, string>;
  /** The query string, already encoded. */
  query: string;
  body: Body;
}

let t: TestApp;
let server: Server;
let checker: DocumentChecker;
/** Admin ids the fuzz must not change (its own credentials). */
const protectedAdminIds = new Set<string>();

// -- values from JSON Schema (the document's) --

const hostileStrings = fc.constantFrom(
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '',
  ' ',
  '..',
  '../..',
  '%',
  '%00',
  '\u0000',
  '\u202e',
  'null',
  'undefined',
  'NaN',
  '-1',
  '0',
  '1e309',
  '9'.repeat(40),
  "' OR 1=1 --",
  '<script>',
  '${x}',
  '\ud800',
  '💥'.repeat(50),
);
// Long strings stay under Node's 16 KB header limit in URLs (beyond it Node answers 431 before
// the app sees the request); bodies get far bigger ones.
const anyString = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40, unit: 'grapheme' }) },
  { weight: 2, arbitrary: hostileStrings },
  { weight: 1, arbitrary: fc.string({ maxLength: 20, unit: 'binary' }) },
  { weight: 1, arbitrary: fc.constantFrom(300, 3000).map((n) => 'x'.repeat(n)) },
);
const bodyString = fc.oneof(
  { weight: 4, arbitrary: anyString },
  { weight: 1, arbitrary: fc.constantFrom(70_000, 400_000).map((n) => 'y'.repeat(n)) },
);

function stringFor(schema: Json): fc.Arbitrary<string> {
  if (schema.format === 'email') return fc.emailAddress();
  if (schema.format === 'date-time')
    return fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }).map((d) => d.toISOString());
  if (schema.pattern) {
    try {
      return fc.stringMatching(new RegExp(schema.pattern)).filter((s) => s.length <= (schema.maxLength ?? 300));
    } catch {
      // a pattern fast-check cannot generate from: random strings then
    }
  }
  return fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 40, 80) });
}

/** Values of the schema's shape (mostly valid; refinements zod checks in code may still refuse some). */
function valueFor(schema: Json, depth = 0): fc.Arbitrary<unknown> {
  if (!schema || typeof schema !== 'object' || depth > 6) return fc.jsonValue({ maxDepth: 1 });
  if ('const' in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(alternatives)) return fc.oneof(...alternatives.map((s: Json) => valueFor(s, depth + 1)));
  if (Array.isArray(schema.type)) return fc.oneof(...schema.type.map((type: string) => valueFor({ ...schema, type }, depth + 1)));
  switch (schema.type) {
    case 'string':
      return stringFor(schema);
    case 'integer': {
      const min = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : -1e6);
      const max = schema.maximum ?? (schema.exclusiveMaximum !== undefined ? schema.exclusiveMaximum - 1 : 1e6);
      return fc.integer({ min: Math.max(min, -(2 ** 31)), max: Math.min(max, 2 ** 31) });
    }
    case 'number':
      return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(valueFor(schema.items ?? {}, depth + 1), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.min(schema.maxItems ?? 3, 3),
      });
    case 'object': {
      const props: Record<string, Json> = schema.properties ?? {};
      const keys = Object.keys(props);
      if (keys.length === 0)
        return fc.dictionary(
          fc.string({ minLength: 1, maxLength: 12 }),
          valueFor(schema.additionalProperties ?? { type: 'string' }, depth + 1),
          { maxKeys: 3 },
        );
      return fc.record(Object.fromEntries(keys.map((k) => [k, valueFor(props[k], depth + 1)])), { requiredKeys: schema.required ?? [] });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** A value of the declared shape with one field made wrong (type, size, prototype key, unknown key). */
function mutated(schema: Json): fc.Arbitrary<unknown> {
  return fc
    .tuple(valueFor(schema), fc.oneof(fc.jsonValue({ maxDepth: 2 }), bodyString), anyString, fc.nat())
    .map(([value, wrong, key, n]) => {
      if (!value || typeof value !== 'object' || Array.isArray(value)) return wrong;
      const keys = Object.keys(value);
      const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
      if (keys.length > 0 && n % 3 !== 0) out[keys[n % keys.length]!] = n % 2 ? wrong : 'x'.repeat(1 + (n % 5000));
      else Object.defineProperty(out, key || 'extra', { value: wrong, enumerable: true, configurable: true, writable: true });
      return out;
    });
}

// Bodies JSON.stringify cannot write: prototype keys as own keys, duplicates, broken syntax, bytes.
const rawJsonBodies = fc.oneof(
  fc.constantFrom(
    '{"__proto__":{"role":"admin","isAdmin":true}}',
    '{"constructor":{"prototype":{"polluted":1}}}',
    '{"name":"a","name":"b"}',
    '{"a":',
    '[',
    '"',
    '{}}',
    'null',
    'true',
    '-0',
    '1e999',
    '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]',
    `[${'{},'.repeat(5000)}{}]`,
  ),
  fc.nat({ max: 200 }).map((depth) => '['.repeat(depth * 40) + ']'.repeat(depth * 40)),
  fc
    .uint8Array({ minLength: 1, maxLength: 64 })
    .map((bytes) => Buffer.concat([Buffer.from('{"a":"'), Buffer.from(bytes), Buffer.from('"}')])),
  fc.constant(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0xa0, 0xa1, 0xff, 0x22, 0x7d])),
);

function bodyFor(op: Operation): fc.Arbitrary<Body> {
  const content: Record<string, Json> | undefined = op.spec.requestBody?.content;
  const none = fc.constant<Body>({ kind: 'none' });
  const otherTypes = fc
    .tuple(
      fc.constantFrom(
        'application/xml',
        'application/x-www-form-urlencoded',
        'multipart/form-data',
        'application/json; charset=latin1',
        'text/csv; charset=utf-16',
        '',
      ),
      anyString,
    )
    .map(([type, text]): Body => ({ kind: 'raw', bytes: text || 'x', type: type || 'application/octet-stream' }));
  const huge = fc
    .constantFrom(300_000, 1_100_000)
    .map((n): Body => ({ kind: 'raw', bytes: `{"x":"${'y'.repeat(n)}"}`, type: 'application/json' }));
  if (!content) {
    // No body declared: one sent anyway must be ignored, whatever it is.
    return fc.oneof(
      { weight: 6, arbitrary: none },
      { weight: 1, arbitrary: rawJsonBodies.map((bytes): Body => ({ kind: 'raw', bytes, type: 'application/json' })) },
      { weight: 1, arbitrary: otherTypes },
    );
  }
  const variants: Array<{ weight: number; arbitrary: fc.Arbitrary<Body> }> = [
    { weight: 1, arbitrary: none },
    { weight: 1, arbitrary: otherTypes },
    { weight: 1, arbitrary: huge },
  ];
  if (content['application/json']) {
    const schema = resolveRefs(content['application/json'].schema, checker.doc);
    variants.push(
      { weight: 8, arbitrary: valueFor(schema).map((value): Body => ({ kind: 'json', value })) },
      { weight: 4, arbitrary: mutated(schema).map((value): Body => ({ kind: 'json', value })) },
      { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((value): Body => ({ kind: 'json', value })) },
      { weight: 2, arbitrary: rawJsonBodies.map((bytes): Body => ({ kind: 'raw', bytes, type: 'application/json' })) },
    );
  }
  for (const type of Object.keys(content).filter((t) => t.startsWith('text/'))) {
    const line = fc
      .array(fc.oneof(anyString, fc.constantFrom('iOS', 'Android', 'alice', 'SER-1', '"', '""', ',', ';')), { maxLength: 10 })
      .map((cells) => cells.join(','));
    const header = fc.constantFrom(
      'userId,platform,serialNumber',
      'platform',
      'userId,platform,ownership,serialNumber,udid,imei,model,osVersion,deviceName,labels',
      '',
      'hostname asa',
      '__proto__,constructor',
    );
    variants.push({
      weight: 6,
      arbitrary: fc
        .tuple(header, fc.array(line, { maxLength: 8 }))
        .map(([h, rows]): Body => ({ kind: 'raw', bytes: [h, ...rows].join('\n'), type })),
    });
    variants.push({
      weight: 1,
      arbitrary: fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b): Body => ({ kind: 'raw', bytes: Buffer.from(b), type })),
    });
  }
  return fc.oneof(...variants);
}

/** Percent-encodes the UTF-8 bytes (lone surrogates become U+FFFD, as a client's encoder makes them). */
const encode = (s: string) =>
  [...Buffer.from(s, 'utf8')]
    .map((b) =>
      /[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');

function paramFor(p: Json): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: valueFor(p.schema ?? {}).map((v) => encode(String(v))) },
    { weight: 2, arbitrary: anyString.filter((s) => s.length > 0).map(encode) },
    { weight: 1, arbitrary: fc.constantFrom('%FF', '%E0%80', '%', '%zz', '..%2F..', '%2e%2e') },
  );
}

function queryFor(op: Operation): fc.Arbitrary<string> {
  const declared: Json[] = (op.spec.parameters ?? []).filter((p: Json) => p.in === 'query');
  const pair = (name: string, value: fc.Arbitrary<string>) => value.map((v) => `${encode(name)}=${encode(v)}`);
  const declaredPairs = declared.map((p) =>
    fc.option(pair(p.name, fc.oneof({ weight: 4, arbitrary: valueFor(p.schema ?? {}).map(String) }, { weight: 2, arbitrary: anyString })), {
      nil: '',
    }),
  );
  const extra = fc.array(
    fc.oneof(
      fc.tuple(hostileStrings, anyString).map(([k, v]) => `${encode(k)}=${encode(v)}`),
      fc.constantFrom(
        'limit[]=1',
        'limit[a]=1',
        'sortOrder=ASC&sortOrder=DESC',
        'offset=1&offset=2',
        '%FF=%FE',
        '__proto__[x]=1',
        'a=%',
        'fields=__proto__',
        'fields=constructor,prototype',
      ),
    ),
    { maxLength: 2 },
  );
  return fc.tuple(fc.tuple(...declaredPairs), extra).map(([d, e]) => [...d, ...e].filter(Boolean).join('&'));
}

function requestFor(op: Operation): fc.Arbitrary<FuzzRequest> {
  const pathParams: Json[] = (op.spec.parameters ?? []).filter((p: Json) => p.in === 'path');
  return fc.record({
    who: fc.constantFrom<Who>('admin', 'admin', 'admin', 'admin', 'admin', 'admin', 'viewer', 'none'),
    params: fc.record(Object.fromEntries(pathParams.map((p) => [p.name, paramFor(p)]))) as fc.Arbitrary<Record<string, string>>,
    query: queryFor(op),
    body: bodyFor(op),
  });
}

// -- sending and judging --

function decoded(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function urlOf(op: Operation, r: FuzzRequest): string {
  let path = op.path.replace(/\{([A-Za-z0-9_]+)\}/g, (_m, name: string) => r.params[name] ?? 'x');
  // The fuzz's own credentials stay usable: it may not change or delete its admins.
  if (/^\/api\/v2\/admins\/\{id\}/.test(op.path) && protectedAdminIds.has(decoded(r.params.id ?? '')))
    path = path.replace(/\/admins\/[^/]+/, '/admins/2147483000');
  return r.query ? `${path}?${r.query}` : path;
}

async function send(op: Operation, r: FuzzRequest): Promise<Answer & { ms: number }> {
  const started = performance.now();
  let req = supertest(server)[op.method](urlOf(op, r));
  if (r.who === 'admin') req = req.auth('admin', adminPassword);
  if (r.who === 'viewer') req = req.auth('fuzz-viewer', viewerPassword);
  if (r.body.kind === 'json') req = req.set('content-type', 'application/json').send(JSON.stringify(r.body.value) ?? 'null');
  if (r.body.kind === 'raw') req = req.set('content-type', r.body.type).send(r.body.bytes);
  const res = await req.buffer(true).parse(rawBody);
  return { status: res.status, headers: res.headers as Answer['headers'], body: res.body as Buffer, ms: performance.now() - started };
}

const describeRequest = (op: Operation, r: FuzzRequest) => {
  const body =
    r.body.kind === 'none'
      ? ''
      : r.body.kind === 'json'
        ? JSON.stringify(r.body.value)
        : `${r.body.type} ${String(r.body.bytes).slice(0, 120)}`;
  return `${op.method.toUpperCase()} ${urlOf(op, r).slice(0, 200)} as ${r.who} ${String(body).slice(0, 200)}`;
};

beforeAll(async () => {
  t = await startTestApp();
  server = t.app.listen(0);
  checker = new DocumentChecker((await supertest(server).get('/api/v2/openapi.json')).body);
  const admin = (m: 'post' | 'put', url: string, body: object) => supertest(server)[m](url).auth('admin', adminPassword).send(body);
  const viewer = await admin('post', '/api/v2/admins', { username: 'fuzz-viewer', password: viewerPassword, role: 'viewer' });
  expect(viewer.status).toBe(201);
  const admins = await supertest(server).get('/api/v2/admins').auth('admin', adminPassword);
  for (const a of admins.body.results) protectedAdminIds.add(String(a.id));
  // Some objects for the generated ids and names to meet.
  await admin('post', '/api/v2/users', { userId: 'alice' });
  await admin('post', '/api/v2/devices', { platform: 'iOS', serialNumber: 'FUZZ-1', userId: 'alice' });
  await admin('post', '/api/v2/labels', { name: 'fuzz', static: true });
  await admin('post', '/api/v2/configurations/vpn', { name: 'fuzz vpn', connectionType: 'ANYCONNECT', server: 'asa.example.com' });
  await admin('post', '/api/v2/appstore/apps', { name: 'Fuzz', bundleId: 'com.example.fuzz' });
  await admin('post', '/api/v2/anyconnect/perapp-policies', { name: 'P1', rules: [] });
  // the seed is what makes a failure repeatable
  console.log(`fuzz-admin: FUZZ_SEED=${seed} FUZZ_RUNS=${runsPerOperation} (per operation) FUZZ_MAX_MS=${maxMs}`);
}, 60_000);

afterAll(async () => {
  server?.close();
  await t?.close();
  removeDir(t.dataDir);
});

describe('fuzzing the admin API from its OpenAPI document', () => {
  it('answers every generated request as documented, in bounded time, and refusals change nothing', { timeout: 600_000 }, async () => {
    const ops = checker.operations.filter((op) => op.path.startsWith('/api/'));
    expect(ops.length).toBeGreaterThan(80);
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    let requests = 0;
    let slowest = 0;
    let fingerprint = await dataFingerprint(t.services.db);
    for (const [i, op] of ops.entries()) {
      let failure = '';
      const property = fc.asyncProperty(requestFor(op), async (r) => {
        const answer = await send(op, r);
        requests++;
        slowest = Math.max(slowest, answer.ms);
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        const what = `${describeRequest(op, r)} → ${answer.status} ${answer.body.toString('utf8').slice(0, 200)}`;
        const problems = checker.check(op, answer);
        if (answer.status >= 500) problems.push('a 5xx');
        if (answer.ms > maxMs) problems.push(`took ${Math.round(answer.ms)} ms`);
        const after = await dataFingerprint(t.services.db);
        if (answer.status >= 400 && after !== fingerprint) problems.push('a refused request changed the data');
        fingerprint = after;
        if (problems.length > 0) {
          failure = `${problems.join('; ')}\n  ${what}`;
          throw new Error(failure);
        }
      });
      try {
        // No shrinking: the server's state moves on, and the first failure says enough.
        await fc.assert(property, { seed: seed + i, numRuns: runsPerOperation, endOnFailure: true });
      } catch (err) {
        failures.push(`${op.key} (FUZZ_SEED=${seed}, seed ${seed + i}): ${failure || (err as Error).message}`);
      }
    }
    console.log(
      `fuzz-admin: ${requests} requests over ${ops.length} operations; statuses ${JSON.stringify(Object.fromEntries(statuses))}; slowest ${Math.round(slowest)} ms`,
    );
    expect(failures).toEqual([]);
    expect(requests).toBeGreaterThanOrEqual(ops.length * runsPerOperation);
  });
});
