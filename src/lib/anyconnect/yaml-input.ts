// YAML (and JSON, which is YAML) input with line numbers, so validation errors can point at the line.
import { LineCounter, isNode, parseDocument } from 'yaml';
import { type IssuePath, type PathIssue, formatPath } from './issues.js';

export interface YamlSource {
  data: unknown;
  /** The 1-based line of the node at `path`, or of its nearest existing ancestor. */
  lineOf(path: IssuePath): number | undefined;
}

export class YamlInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'YamlInputError';
  }
}

export function parseYamlSource(text: string, sourceName: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const err = doc.errors[0]!;
    const line = err.linePos?.[0]?.line;
    const firstLine = err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new YamlInputError(`${sourceName}${line ? ` line ${line}` : ''}: invalid YAML: ${firstLine}`);
  }
  const data: unknown = doc.toJS();
  return {
    data,
    lineOf(path) {
      for (let n = path.length; n >= 0; n--) {
        const node: unknown = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
        if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
      }
      return undefined;
    },
  };
}

/** `FILE line 7: rules[2].appId: message` for each issue. */
export function describeIssues(source: YamlSource, sourceName: string, issues: PathIssue[]): string {
  return issues
    .map((i) => {
      const line = source.lineOf(i.path);
      return `${sourceName}${line ? ` line ${line}` : ''}: ${formatPath(i.path)}: ${i.message}`;
    })
    .join('\n');
}
