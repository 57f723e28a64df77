#!/usr/bin/env node
// The mockiron CLI: runs the compiled output in dist/ (`npm install` builds it; after editing
// src/, `npm run build`, or run the sources with `npx tsx src/app/cli/main.ts`).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/app/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('mockiron: dist/ is missing: run `npm run build` (npm install does it)\n');
  process.exit(1);
}
await import(entry.href);
