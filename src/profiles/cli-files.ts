// Shared by the `profile` command actions (cli-build.ts, cli-read.ts): reading input and
// printing a plist the way the user asked.
import { readFileSync } from 'node:fs';
import { CliError } from '../platform/cli/errors.js';
import { plistToJson, toXmlPlist, type PlistValue } from '../lib/plist/index.js';

export type OutputFormat = 'xml' | 'json';

export function render(value: PlistValue, format: OutputFormat): string {
  return format === 'json' ? `${JSON.stringify(plistToJson(value), null, 2)}\n` : toXmlPlist(value);
}

export function readFileOrFail(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CliError(`${path}: no such file`);
    if (code === 'EISDIR') throw new CliError(`${path}: is a directory`);
    throw new CliError(`${path}: cannot read (${code ?? String(err)})`);
  }
}
