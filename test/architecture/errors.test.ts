// One error model (docs/errors.md): domain code throws DomainError; ApiError, the HTTP rendering,
// is imported only by the HTTP kit, the app's assembly and route modules. Checked on the real
// source of src/ and shown to fail on a planted violation.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const API_ERROR_MODULE = 'src/platform/http/errors.ts';

/** One import of ApiError: which module, and the names it imports from the HTTP errors module. */
interface ApiErrorImport {
  from: string;
  names: string[];
}

const IMPORT = /\bimport\s+([^'";]*?)\s+from\s*['"]([^'"]+)['"]/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'generated' ? [] : sourceFiles(p);
    return /\.(ts|mjs)$/.test(e.name) ? [p] : [];
  });
}

/** The imports of ApiError in one module's source (by name, or the whole module as a namespace). */
function apiErrorImportsIn(from: string, source: string): ApiErrorImport[] {
  const found: ApiErrorImport[] = [];
  // comments may quote import lines; only code counts
  const code = source.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, '');
  for (const [, clause, spec] of code.matchAll(IMPORT)) {
    if (!spec!.startsWith('.')) continue;
    const to = path.normalize(path.join(path.dirname(from), spec!)).replace(/\.js$/, '.ts');
    if (to !== API_ERROR_MODULE) continue;
    const names = [...clause!.matchAll(/\*\s+as\s+\w+|\b\w+\b/g)].map((m) => m[0]).filter((n) => n !== 'type');
    if (names.some((n) => n === 'ApiError' || n.startsWith('*'))) found.push({ from, names });
  }
  return found;
}

/** Every module of src/ that imports ApiError. */
function apiErrorImports(): ApiErrorImport[] {
  return sourceFiles(path.join(root, 'src')).flatMap((file) => apiErrorImportsIn(path.relative(root, file), readFileSync(file, 'utf8')));
}

function mayImportApiError(file: string): boolean {
  return file.startsWith('src/platform/http/') || file.startsWith('src/app/') || /^src\/[^/]+\/routes\.ts$/.test(file);
}

function violations(imports: ApiErrorImport[]): string[] {
  return imports
    .filter((i) => !mayImportApiError(i.from))
    .map((i) => `${i.from} imports ApiError: domain code throws DomainError (src/platform/errors), the edges render it`);
}

const real = apiErrorImports();

describe('one error model', () => {
  it('reads the real source: the HTTP kit and the app import ApiError', () => {
    const importers = real.map((i) => i.from);
    expect(importers).toContain('src/app/http-app.ts');
    expect(importers).toContain('src/platform/http/route.ts');
  });

  it('holds on src/: only the HTTP kit, the app and route modules import ApiError', () => {
    expect(violations(real)).toEqual([]);
  });

  it('no converted capability service or store imports it', () => {
    const converted = ['admins', 'users', 'audit', 'apps', 'vpn', 'devices', 'labels', 'policy', 'profiles', 'enrollment', 'signing'];
    expect(real.filter((i) => converted.includes(i.from.split('/')[1]!)).map((i) => i.from)).toEqual([]);
  });

  it.each<[string, ApiErrorImport]>([
    ['a service', { from: 'src/vpn/service.ts', names: ['ApiError'] }],
    ['a store', { from: 'src/devices/store.ts', names: ['ApiError'] }],
    ['the platform outside the HTTP kit', { from: 'src/platform/auth/actor.ts', names: ['ApiError'] }],
    ['a namespace import', { from: 'src/labels/membership.ts', names: ['* as errors'] }],
    ['a nested module named routes', { from: 'src/devices/sub/routes.ts', names: ['ApiError'] }],
  ])('fails on a planted violation: %s', (_name, planted) => {
    const found = violations([...real, planted]);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(new RegExp(`^${planted.from} imports ApiError`));
  });

  it('finds every form of the import in a module, and only imports of ApiError', () => {
    const from = 'src/vpn/service.ts';
    const spec = "'../platform/http/errors.js'";
    const found = (source: string) => apiErrorImportsIn(from, source).map((i) => i.names);
    expect(found(`import { ApiError } from ${spec};`)).toEqual([['ApiError']]);
    expect(found(`import type { ApiError } from ${spec};`)).toEqual([['ApiError']]);
    expect(found(`import {\n  envelope,\n  type ApiError,\n} from ${spec};`)).toEqual([['envelope', 'ApiError']]);
    expect(found(`import * as http from ${spec};`)).toEqual([['* as http']]);
    expect(found(`import { envelope } from ${spec};`)).toEqual([]);
    expect(found(`// import { ApiError } from ${spec};\n/* import { ApiError } from ${spec}; */`)).toEqual([]);
    expect(found(`import { ApiError } from '../anyconnect/errors.js';`)).toEqual([]);
  });

  it.each<[string, ApiErrorImport]>([
    ['a route module', { from: 'src/vpn/routes.ts', names: ['ApiError'] }],
    ['the HTTP kit', { from: 'src/platform/http/pagination.ts', names: ['ApiError'] }],
  ])('lets the edges import it: %s', (_name, planted) => {
    expect(violations([...real, planted])).toEqual([]);
  });
});
