// The import graph of src/ and the layer rules of docs/architecture.md, as data: the
// architecture test checks the real graph, and a planted violation, against the same rules.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export type Layer = 'lib' | 'platform' | 'capability' | 'simulator' | 'app';

/** One import: from a file to a file of src/ (relative specifiers) or to a package. */
export interface ImportEdge {
  from: string;
  to: string;
  kind: 'file' | 'package';
}

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'generated' ? [] : sourceFiles(p);
    return /\.(ts|mjs)$/.test(e.name) ? [p] : [];
  });
}

/** Every import of every file under `srcDir` (paths relative to the repository root). */
export function readImportGraph(root: string, srcDir = 'src'): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const file of sourceFiles(path.join(root, srcDir))) {
    const from = path.relative(root, file);
    // comments may quote import lines; only code counts
    const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, '');
    for (const [, spec] of code.matchAll(SPECIFIER)) {
      if (spec!.startsWith('.')) {
        const to = path.normalize(path.join(path.dirname(from), spec!)).replace(/\.js$/, '.ts');
        edges.push({ from, to, kind: 'file' });
      } else {
        edges.push({ from, to: spec!, kind: 'package' });
      }
    }
  }
  return edges;
}

export function layerOf(file: string): Layer {
  const [, top] = file.split('/');
  if (top === 'lib') return 'lib';
  if (top === 'platform' || top === 'generated') return 'platform';
  if (top === 'app') return 'app';
  if (top === 'simulator') return 'simulator';
  return 'capability';
}

const rank: Record<Layer, number> = { lib: 0, platform: 1, capability: 2, simulator: 2, app: 3 };
/** Packages that do I/O or hold process state: a pure codec imports none of them. */
const IMPURE_PACKAGES = /^(express|@prisma\/|pino|better-sqlite3|swagger-ui-express|node:(fs|http|https|child_process|worker_threads))/;

/** What breaks the rules, one line per offending import. */
export function violations(edges: ImportEdge[]): string[] {
  const out: string[] = [];
  for (const { from, to, kind } of edges) {
    const source = layerOf(from);
    if (kind === 'package') {
      if (source === 'lib' && IMPURE_PACKAGES.test(to)) out.push(`${from} → ${to}: src/lib is pure (no I/O packages)`);
      continue;
    }
    const target = layerOf(to);
    if (rank[target] > rank[source]) out.push(`${from} → ${to}: ${source} may not import ${target} (imports point down)`);
    else if (source === 'simulator' && target === 'capability') out.push(`${from} → ${to}: the simulator imports src/lib only`);
    else if (source === 'capability' && target === 'simulator') out.push(`${from} → ${to}: a capability may not import the simulator`);
    else if (source === 'capability' && target === 'capability' && folderOf(from) !== folderOf(to) && path.basename(to) !== 'index.ts')
      out.push(`${from} → ${to}: a capability imports another only through its index.ts`);
    else if (source === 'simulator' && target === 'platform' && !to.startsWith('src/platform/cli/'))
      out.push(`${from} → ${to}: the simulator imports src/lib (and the CLI kit) only`);
  }
  return out;
}

/** The top-level folder of src/ a file is in: `src/mdm/service.ts` → `mdm`. */
export function folderOf(file: string): string {
  return file.split('/')[1]!;
}
