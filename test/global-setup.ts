// Tests that start the real binary (bin/mockiron.js runs dist/) must run the code under test:
// build once before any test file, in about a second.
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
}
