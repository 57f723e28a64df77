// docs/errors.md shows the kind table and the catalogue as they are in the code: both tables are
// rendered here from the catalogue and the adapters' tables, and must match the document.
// After changing the catalogue: UPDATE_ERROR_DOCS=1 npx vitest run test/unit/errors/docs.test.ts
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { exitCodeOfKind } from '../../../src/platform/cli/errors.js';
import { errorCatalogue, errorKinds, type ErrorCode } from '../../../src/platform/errors/index.js';
import { httpStatusOfKind } from '../../../src/platform/http/errors.js';

const docPath = fileURLToPath(new URL('../../../docs/errors.md', import.meta.url));

function kindTable(): string {
  const rows = errorKinds.map((k) => `| ${k} | ${httpStatusOfKind[k]} | ${httpStatusOfKind[k]}, text/plain | ${exitCodeOfKind[k]} |`);
  return ['| kind | admin API (envelope) | device endpoints | CLI exit code |', '|---|---|---|---|', ...rows].join('\n');
}

function catalogueTable(): string {
  const rows = (Object.keys(errorCatalogue) as ErrorCode[]).map((code) => {
    const { kind, messageKey, origin } = errorCatalogue[code];
    return `| \`${code}\` | ${kind} | ${httpStatusOfKind[kind]} | \`${messageKey}\` | ${origin} |`;
  });
  return ['| code | kind | status | messageKey | origin |', '|---|---|---|---|---|', ...rows].join('\n');
}

/** The document with the text between `<!-- name:start -->` and `<!-- name:end -->` replaced. */
function withSection(doc: string, name: string, body: string): string {
  const start = `<!-- ${name}:start -->\n`;
  const end = `\n<!-- ${name}:end -->`;
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  if (from < 0 || to < from) throw new Error(`docs/errors.md has no ${name} section`);
  return doc.slice(0, from + start.length) + body + doc.slice(to);
}

describe('docs/errors.md', () => {
  const doc = readFileSync(docPath, 'utf8');
  const current = withSection(withSection(doc, 'kinds', kindTable()), 'catalogue', catalogueTable());
  if (process.env.UPDATE_ERROR_DOCS === '1' && current !== doc) writeFileSync(docPath, current);

  it('shows every kind with its HTTP status, device answer and exit code, as the adapters have them', () => {
    expect(doc).toContain(kindTable());
  });

  it('lists the whole catalogue, as the code has it', () => {
    expect(doc).toContain(catalogueTable());
    for (const code of Object.keys(errorCatalogue)) expect(doc).toContain(`| \`${code}\` |`);
  });

  it('fails on a stale document (a planted extra row)', () => {
    const stale = withSection(doc, 'catalogue', `${catalogueTable()}\n| \`gone.code\` | conflict | 409 | \`x\` | core |`);
    expect(stale).not.toBe(doc);
    expect(withSection(stale, 'catalogue', catalogueTable())).toBe(doc);
  });
});
