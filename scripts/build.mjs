// Compiles src/ to dist/ (one JavaScript file per TypeScript file, same folders, so paths that
// modules resolve relative to themselves — vendor/, prisma/, package.json — stay right).
// esbuild only strips types: `npm run typecheck` (tsc) is the type checker.
import { build } from 'esbuild';
import { cpSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(root, 'src');
const dist = path.join(root, 'dist');

function files(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)],
  );
}

const all = files(src);
rmSync(dist, { recursive: true, force: true });
await build({
  entryPoints: all.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')),
  outdir: dist,
  outbase: src,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
});
// Plain JavaScript that runs as is (worker threads load it by path).
for (const f of all.filter((f) => f.endsWith('.mjs'))) cpSync(f, path.join(dist, path.relative(src, f)));
