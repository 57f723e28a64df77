// The layer rules of docs/architecture.md, checked on the real import graph of src/ (in the
// spirit of Fleet's server/archtest): imports point down (lib → platform → capabilities → app),
// src/lib is pure, and the simulator is a client that reuses only src/lib (and the CLI kit).
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { layerOf, readImportGraph, violations, type ImportEdge } from './import-graph.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const graph = readImportGraph(root);

describe('layers', () => {
  it('reads the real graph: every layer is present and imports were found', () => {
    const layers = new Set(graph.map((e) => layerOf(e.from)));
    expect([...layers].sort()).toEqual(['app', 'capability', 'lib', 'platform', 'simulator']);
    expect(graph.filter((e) => e.kind === 'file').length).toBeGreaterThan(500);
  });

  it('holds on src/: no import from a lower layer to a higher one, src/lib pure, the simulator on src/lib only', () => {
    expect(violations(graph)).toEqual([]);
  });

  it('has no cycle between layers (a consequence of the rules, checked on its own)', () => {
    const rank = { lib: 0, platform: 1, capability: 2, simulator: 2, app: 3 } as const;
    const upward = graph.filter((e) => e.kind === 'file' && rank[layerOf(e.to)] > rank[layerOf(e.from)]);
    expect(upward).toEqual([]);
  });

  it.each<[string, ImportEdge, RegExp]>([
    [
      "a capability importing another's internals",
      { from: 'src/mdm/results.ts', to: 'src/profiles/service.ts', kind: 'file' },
      /imports another only through its index\.ts/,
    ],
    [
      'lib importing platform',
      { from: 'src/lib/plist/parse.ts', to: 'src/platform/logger.ts', kind: 'file' },
      /lib may not import platform/,
    ],
    ['lib importing express', { from: 'src/lib/plist/parse.ts', to: 'express', kind: 'package' }, /src\/lib is pure/],
    ['lib importing Prisma', { from: 'src/lib/criteria/compile.ts', to: '@prisma/client', kind: 'package' }, /src\/lib is pure/],
    ['lib reading files', { from: 'src/lib/profiles/spec.ts', to: 'node:fs', kind: 'package' }, /src\/lib is pure/],
    [
      'lib importing a capability',
      { from: 'src/lib/profiles/vpn-payload.ts', to: 'src/vpn/service.ts', kind: 'file' },
      /lib may not import capability/,
    ],
    [
      'platform importing a capability',
      { from: 'src/platform/db/client.ts', to: 'src/enrollment/store.ts', kind: 'file' },
      /platform may not import capability/,
    ],
    [
      'a capability importing the app',
      { from: 'src/mdm/service.ts', to: 'src/app/services.ts', kind: 'file' },
      /capability may not import app/,
    ],
    [
      'the simulator importing a service',
      { from: 'src/simulator/enroll.ts', to: 'src/mdm/service.ts', kind: 'file' },
      /simulator imports src\/lib only/,
    ],
    [
      'the simulator importing the database',
      { from: 'src/simulator/fleet.ts', to: 'src/platform/db/client.ts', kind: 'file' },
      /simulator imports src\/lib/,
    ],
  ])('fails on a planted violation: %s', (_name, planted, message) => {
    const found = violations([...graph, planted]);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(message);
  });
});
