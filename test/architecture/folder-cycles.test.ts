// Issue #14's done-when: the import graph has no cycle between top-level folders of src/ (the
// capabilities among them: devices, labels, users…). Where two capabilities need each other, the
// lower one declares a port and the assembly (src/app/services.ts) wires the higher one in.
// Checked on the real import graph (type-only imports count), and shown to fail on planted cycles.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { folderOf, readImportGraph, type ImportEdge } from './import-graph.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const graph = readImportGraph(root);

/** Every elementary cycle between top-level folders, each once, as "a → b → a". */
function folderCycles(edges: ImportEdge[]): string[] {
  const next = new Map<string, Set<string>>();
  for (const e of edges) {
    if (e.kind !== 'file') continue;
    const [from, to] = [folderOf(e.from), folderOf(e.to)];
    if (from === to) continue;
    if (!next.has(from)) next.set(from, new Set());
    next.get(from)!.add(to);
  }
  const cycles: string[] = [];
  // Each cycle is reported from its smallest folder name, walking only through larger ones.
  const walk = (start: string, path: string[]) => {
    for (const n of [...(next.get(path.at(-1)!) ?? [])].sort()) {
      if (n === start) cycles.push([...path, n].join(' → '));
      else if (n > start && !path.includes(n)) walk(start, [...path, n]);
    }
  };
  for (const start of [...next.keys()].sort()) walk(start, [start]);
  return cycles;
}

const edge = (from: string, to: string): ImportEdge => ({ from, to, kind: 'file' });

describe('no cycle between top-level folders', () => {
  it('reads the real graph: capabilities import each other', () => {
    const between = graph.filter((e) => e.kind === 'file' && folderOf(e.from) !== folderOf(e.to));
    expect(between).toContainEqual(edge('src/labels/service.ts', 'src/devices/index.ts'));
    expect(between).toContainEqual(edge('src/devices/service.ts', 'src/users/index.ts'));
  });

  it('holds on src/', () => {
    expect(folderCycles(graph)).toEqual([]);
  });

  it.each<[string, ImportEdge[], string[]]>([
    ['devices importing labels back', [edge('src/devices/service.ts', 'src/labels/store.ts')], ['devices → labels → devices']],
    ['users importing devices back', [edge('src/users/store.ts', 'src/devices/store.ts')], ['devices → users → devices']],
    ['a type-only port in the wrong folder', [edge('src/users/service.ts', 'src/devices/service.ts')], ['devices → users → devices']],
    [
      'a cycle through three folders',
      [edge('src/alpha/a.ts', 'src/beta/b.ts'), edge('src/beta/b.ts', 'src/gamma/c.ts'), edge('src/gamma/c.ts', 'src/alpha/index.ts')],
      ['alpha → beta → gamma → alpha'],
    ],
  ])('fails on a planted cycle: %s', (_name, planted, found) => {
    expect(folderCycles([...graph, ...planted])).toEqual(found);
  });
});
