#!/usr/bin/env node
// The mockiron CLI: runs the compiled output in dist/ (`npm install` builds it; after editing
// src/, `npm run build`, or run the sources with `npx tsx src/app/cli/main.ts`).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/app/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('mockiron: dist/ is missing: run `npm run build` (npm install does it)\n');
  process.exit(1);
}
const { run, processIo } = await import(entry.href);
// An exit code, not process.exit(): `serve` and `simulate` keep the process alive while they run.
process.exitCode = await run(process.argv.slice(2), processIo());
