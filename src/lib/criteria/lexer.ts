// Splits criteria text into tokens. Words are not classified here (field, keyword, operator or
// value): that depends on where they stand, so the parser decides.

import { CriteriaError } from './errors.js';

export type SymbolOperator = '=' | '!=' | '<' | '<=' | '>' | '>=';

export type Token =
  | { kind: 'lparen'; start: number; end: number }
  | { kind: 'rparen'; start: number; end: number }
  | { kind: 'symbol'; text: SymbolOperator; start: number; end: number }
  /** Unquoted run of characters, e.g. common.model, AND, 10.0.0.1, iPad4,1. */
  | { kind: 'word'; text: string; start: number; end: number }
  /** Double-quoted text with escapes already resolved. */
  | { kind: 'string'; text: string; start: number; end: number }
  | { kind: 'eof'; start: number; end: number };

const WHITESPACE = /\s/;

function endsWord(text: string, i: number): boolean {
  const c = text[i]!;
  if (c === '(' || c === ')' || c === '"' || c === '=' || c === '<' || c === '>') return true;
  if (c === '!' && text[i + 1] === '=') return true;
  return WHITESPACE.test(c);
}

/** Offsets in tokens are 0-based string indexes; errors report 1-based columns. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (WHITESPACE.test(c)) {
      i++;
    } else if (c === '(') {
      tokens.push({ kind: 'lparen', start: i, end: i + 1 });
      i++;
    } else if (c === ')') {
      tokens.push({ kind: 'rparen', start: i, end: i + 1 });
      i++;
    } else if (c === '=') {
      tokens.push({ kind: 'symbol', text: '=', start: i, end: i + 1 });
      i++;
    } else if (c === '<' || c === '>' || (c === '!' && text[i + 1] === '=')) {
      const withEquals = text[i + 1] === '=';
      const symbol = (withEquals ? `${c}=` : c) as SymbolOperator;
      tokens.push({ kind: 'symbol', text: symbol, start: i, end: i + symbol.length });
      i += symbol.length;
    } else if (c === '"') {
      const token = readQuoted(text, i);
      tokens.push(token);
      i = token.end;
    } else {
      const start = i;
      while (i < text.length && !endsWord(text, i)) i++;
      tokens.push({ kind: 'word', text: text.slice(start, i), start, end: i });
    }
  }
  tokens.push({ kind: 'eof', start: text.length, end: text.length });
  return tokens;
}

function readQuoted(text: string, start: number): Token {
  let value = '';
  let i = start + 1;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') return { kind: 'string', text: value, start, end: i + 1 };
    // Only \" and \\ are escapes; any other backslash is kept as written.
    if (c === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\')) {
      value += text[i + 1];
      i += 2;
    } else {
      value += c;
      i++;
    }
  }
  throw new CriteriaError('criteria.unterminated_string', 'Unterminated string: this opening quote has no closing quote', text, start + 1);
}

/** Quotes text so that readQuoted gives it back unchanged. */
export function quoteString(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
