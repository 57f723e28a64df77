// Small helpers for turning validation paths and zod issues into messages a person can act on.
import type { z } from 'zod';

export type IssuePath = Array<string | number>;

export interface PathIssue {
  path: IssuePath;
  message: string;
}

/** `['rules', 2, 'appId']` → `rules[2].appId` */
export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out === '' ? '(top level)' : out;
}

export function zodIssues(error: z.ZodError, prefix: IssuePath = []): PathIssue[] {
  return error.issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path.filter((p): p is string | number => typeof p !== 'symbol')];
    // Point at each unknown key itself (so YAML errors get its line), with a typo-friendly message.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: [...path, key], message: `unknown key '${key}' (a typo?)` }));
    }
    return [{ path, message: issue.message }];
  });
}

export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'a mapping' : `${typeof value} ${JSON.stringify(value)}`;
}
