// Recursive-descent parser. Grammar (keywords and word operators case-insensitive):
//
//   criteria   := <empty> | or
//   or         := and ("OR" and)*
//   and        := unary ("AND" unary)*
//   unary      := "NOT" unary | "(" or ")" | comparison
//   comparison := field operator value | field ("is empty" | "is not empty")
//
// Fields, operators and values are type-checked against the registry here, so every error
// can point at the column it comes from.

import {
  ALL_OPERATORS,
  OPERATORS_BY_TYPE,
  isEmptinessOperator,
  type Ast,
  type ComparisonNode,
  type CriteriaNode,
  type Operator,
} from './ast.js';
import { CriteriaError, quoteForMessage, type CriteriaErrorKey } from './errors.js';
import { CUSTOM_DEVICE_PREFIX, FREE_TEXT_FIELDS, lookupField, type FieldDefinition } from './fields.js';
import { quoteString, tokenize, type Token } from './lexer.js';
import { typeValue } from './values.js';

export interface ParseOptions {
  /** Longest accepted criteria text, in characters. Default 2000; search queries use 255. */
  maxLength?: number;
  /**
   * A criteria that is one word or one quoted text and nothing else is a free-text search
   * (Core's portal search box: query=samsung) over FREE_TEXT_FIELDS. Off for label criteria.
   */
  freeText?: boolean;
}

export const DEFAULT_MAX_LENGTH = 2000;
/** Nesting limit for parentheses and NOT, so hostile input cannot exhaust the stack. */
export const MAX_NESTING = 100;

const OPERATORS_LONGEST_FIRST = [...ALL_OPERATORS].sort((a, b) => b.length - a.length);
const OPERATOR_LIST = ALL_OPERATORS.map((operator) => `"${operator}"`).join(', ');

export function parseCriteria(text: string, options: ParseOptions = {}): Ast {
  const maxLength = options.maxLength ?? DEFAULT_MAX_LENGTH;
  if (text.length > maxLength) {
    throw new CriteriaError(
      'criteria.too_long',
      `Criteria is ${text.length} characters long; the limit is ${maxLength}`,
      text,
      maxLength + 1,
    );
  }
  const parser = new Parser(text);
  return (options.freeText ? parser.parseFreeText() : undefined) ?? parser.parseAll();
}

class Parser {
  private readonly tokens: Token[];
  private position = 0;
  private depth = 0;
  /** Open parentheses, innermost last, so an unclosed one can be pointed at. */
  private readonly openParens: Token[] = [];

  constructor(private readonly text: string) {
    this.tokens = tokenize(text);
  }

  /** The free-text search a lone word or quoted text stands for, or undefined when it is not one. */
  parseFreeText(): Ast | undefined {
    const [only, end] = this.tokens;
    if (this.tokens.length !== 2 || end?.kind !== 'eof' || (only?.kind !== 'word' && only?.kind !== 'string')) return undefined;
    const text = only.text.trim();
    if (text === '' || ['and', 'or', 'not'].includes(text.toLowerCase())) return undefined;
    return {
      type: 'or',
      operands: FREE_TEXT_FIELDS.map((field) => ({ type: 'comparison', field, operator: 'contains', value: text })),
    };
  }

  parseAll(): Ast {
    if (this.peek().kind === 'eof') return { type: 'all' };
    const tree = this.parseOr();
    const next = this.peek();
    if (next.kind === 'rparen') {
      this.fail('criteria.unmatched_parenthesis', `Unmatched ")": there is no "(" for it to close`, next.start);
    }
    if (next.kind !== 'eof') this.failTrailing(next, 'end of criteria');
    return tree;
  }

  private parseOr(): CriteriaNode {
    const operands = [this.parseAnd()];
    while (this.isKeyword(this.peek(), 'or')) {
      this.advance();
      operands.push(this.parseAnd());
    }
    return operands.length === 1 ? operands[0]! : { type: 'or', operands };
  }

  private parseAnd(): CriteriaNode {
    const operands = [this.parseUnary()];
    while (this.isKeyword(this.peek(), 'and')) {
      this.advance();
      operands.push(this.parseUnary());
    }
    return operands.length === 1 ? operands[0]! : { type: 'and', operands };
  }

  private parseUnary(): CriteriaNode {
    const token = this.peek();
    if (this.isKeyword(token, 'not')) {
      this.advance();
      this.enter(token);
      const operand = this.parseUnary();
      this.depth--;
      return { type: 'not', operand };
    }
    if (token.kind === 'lparen') {
      this.advance();
      this.enter(token);
      if (this.peek().kind === 'rparen') {
        this.fail('criteria.empty_parentheses', 'Empty parentheses: put a comparison inside', token.start);
      }
      this.openParens.push(token);
      const inner = this.parseOr();
      const close = this.peek();
      if (close.kind === 'eof') {
        this.fail('criteria.unclosed_parenthesis', 'Unclosed "(": add a matching ")"', token.start);
      }
      if (close.kind !== 'rparen') this.failTrailing(close, '")"');
      this.advance();
      this.openParens.pop();
      this.depth--;
      return inner;
    }
    return this.parseComparison();
  }

  private parseComparison(): ComparisonNode {
    const fieldToken = this.peek();
    const field = this.parseField(fieldToken);
    this.advance();

    const operatorToken = this.peek();
    const operator = this.parseOperator(operatorToken, field, fieldToken);
    const allowed = OPERATORS_BY_TYPE[field.type];
    if (!allowed.includes(operator)) {
      this.fail(
        'criteria.operator_not_allowed',
        `Operator "${operator}" does not apply to ${field.name} (${field.type === 'enum' ? 'an' : 'a'} ${field.type} field); use one of ${allowed.map((o) => `"${o}"`).join(', ')}`,
        operatorToken.start,
      );
    }
    if (isEmptinessOperator(operator)) return { type: 'comparison', field: field.name, operator, value: null };

    const operatorEnd = this.tokens[this.position - 1]!.end;
    const valueToken = this.peek();
    if (
      valueToken.kind !== 'string' &&
      (valueToken.kind !== 'word' || this.isKeyword(valueToken, 'and') || this.isKeyword(valueToken, 'or'))
    ) {
      const found = valueToken.kind === 'eof' ? '' : `, found ${this.describe(valueToken)}`;
      const hint = valueToken.kind === 'word' ? ` (to compare with the word ${valueToken.text}, quote it)` : '';
      this.fail(
        'criteria.missing_value',
        `Missing value after ${field.name} ${operator}${found}${hint}`,
        valueToken.kind === 'eof' ? operatorEnd : valueToken.start,
      );
    }
    // Core quotes strings with double quotes only; a single-quoted value would be the bare word
    // with its quotes ('iPhone' matching nothing), a silent trap, so it is refused.
    if (valueToken.kind === 'word' && valueToken.text.startsWith("'")) {
      const close = this.text.indexOf("'", valueToken.start + 1);
      const quoted = close === -1 ? valueToken.text : this.text.slice(valueToken.start, close + 1);
      this.fail(
        'criteria.bad_value',
        `Single quotes are not string quotes in criteria: ${quoted} would be compared with its quote marks; use double quotes: ${quoteString(quoted.replace(/^'|'$/g, ''))}`,
        valueToken.start,
      );
    }
    this.advance();
    const typed = typeValue(field, operator, valueToken.text);
    if (!typed.ok) this.fail('criteria.bad_value', typed.message, valueToken.start);
    return { type: 'comparison', field: field.name, operator, value: typed.value };
  }

  private parseField(token: Token): FieldDefinition {
    if (token.kind !== 'word' && token.kind !== 'string') {
      if (token.kind === 'rparen' && this.openParens.length === 0) {
        this.fail('criteria.unmatched_parenthesis', `Unmatched ")": there is no "(" for it to close`, token.start);
      }
      const found = token.kind === 'eof' ? 'the end of the criteria' : this.describe(token);
      this.fail('criteria.expected_field', `Expected a field name, found ${found}`, token.start);
    }
    if (token.kind === 'word' && (this.isKeyword(token, 'and') || this.isKeyword(token, 'or'))) {
      this.fail('criteria.expected_field', `Expected a field name, found ${token.text.toUpperCase()}`, token.start);
    }
    const lookup = lookupField(token.text);
    switch (lookup.kind) {
      case 'builtin':
      case 'custom':
        return lookup.definition;
      case 'bad-custom-name':
        return this.fail(
          'criteria.invalid_custom_attribute',
          `Invalid custom attribute name ${quoteForMessage(lookup.attribute)}: use 1 to 64 letters, digits, "_", "." or "-" after ${CUSTOM_DEVICE_PREFIX}`,
          token.start,
        );
      case 'unknown': {
        const spaced = token.kind === 'word' ? this.fieldNameWithSpaces() : undefined;
        if (spaced) {
          return this.fail(
            'criteria.unknown_field',
            `Unknown field ${quoteForMessage(token.text)}; field names containing spaces must be quoted: ${quoteForMessage(spaced)}`,
            token.start,
          );
        }
        const suggestion = lookup.suggestion ? `; did you mean ${lookup.suggestion}?` : '';
        return this.fail('criteria.unknown_field', `Unknown field ${quoteForMessage(token.text)}${suggestion}`, token.start);
      }
    }
  }

  /** Reads an operator, consuming its tokens; multi-word operators may be bare or quoted. */
  private parseOperator(token: Token, field: FieldDefinition, fieldToken: Token): Operator {
    if (token.kind === 'symbol') {
      this.advance();
      return token.text;
    }
    if (token.kind === 'string') {
      const spelled = token.text.trim().replace(/\s+/g, ' ').toLowerCase();
      const operator = ALL_OPERATORS.find((candidate) => candidate === spelled);
      if (!operator) this.failUnknownOperator(token, field);
      this.advance();
      return operator;
    }
    if (token.kind === 'word') {
      // Longest match first: "is not empty" before "is empty".
      const words = this.upcomingWords(3);
      for (const operator of OPERATORS_LONGEST_FIRST) {
        const parts = operator.split(' ');
        if (parts.length <= words.length && parts.every((part, i) => part === words[i])) {
          this.position += parts.length;
          return operator;
        }
      }
      this.failUnknownOperator(token, field);
    }
    return this.fail(
      'criteria.missing_operator',
      `Expected an operator after ${field.name}; use one of ${OPERATOR_LIST}`,
      token.kind === 'eof' ? fieldToken.end : token.start,
    );
  }

  private failUnknownOperator(token: Token & { text: string }, field: FieldDefinition): never {
    const allowed = OPERATORS_BY_TYPE[field.type].map((o) => `"${o}"`).join(', ');
    return this.fail(
      'criteria.unknown_operator',
      `Unknown operator ${quoteForMessage(token.text)} after ${field.name}; use one of ${allowed}`,
      token.start,
    );
  }

  /** A registry name the bare words from here on spell when joined with spaces, e.g. ios.iPhone UDID. */
  private fieldNameWithSpaces(): string | undefined {
    const words: string[] = [];
    for (let i = this.position; i < this.tokens.length && words.length < 4; i++) {
      const token = this.tokens[i]!;
      if (token.kind !== 'word') break;
      words.push(token.text);
      const lookup = words.length > 1 ? lookupField(words.join(' ')) : undefined;
      if (lookup?.kind === 'builtin') return lookup.definition.name;
    }
    return undefined;
  }

  /** Lower-cased texts of the next bare words, stopping at the first token that is not one. */
  private upcomingWords(count: number): string[] {
    const words: string[] = [];
    for (let i = this.position; i < this.tokens.length && words.length < count; i++) {
      const token = this.tokens[i]!;
      if (token.kind !== 'word') break;
      words.push(token.text.toLowerCase());
    }
    return words;
  }

  private failTrailing(token: Token, expected: string): never {
    const previous = this.tokens[this.position - 1];
    const hint =
      previous?.kind === 'word' && (token.kind === 'word' || token.kind === 'lparen')
        ? '; quote values that contain spaces or parentheses'
        : '';
    return this.fail(
      'criteria.trailing_garbage',
      `Unexpected ${this.describe(token)}: expected AND, OR or ${expected}${hint}`,
      token.start,
    );
  }

  private enter(token: Token): void {
    if (++this.depth > MAX_NESTING) {
      this.fail('criteria.too_deep', `Criteria nests more than ${MAX_NESTING} levels deep`, token.start);
    }
  }

  private describe(token: Token): string {
    switch (token.kind) {
      case 'lparen':
        return '"("';
      case 'rparen':
        return '")"';
      case 'eof':
        return 'the end of the criteria';
      case 'string':
        return `the string ${quoteForMessage(token.text)}`;
      default:
        return quoteForMessage(token.text);
    }
  }

  private isKeyword(token: Token, keyword: 'and' | 'or' | 'not'): boolean {
    return token.kind === 'word' && token.text.toLowerCase() === keyword;
  }

  private peek(): Token {
    return this.tokens[this.position]!;
  }

  private advance(): void {
    if (this.position < this.tokens.length - 1) this.position++;
  }

  private fail(key: CriteriaErrorKey, message: string, offset: number): never {
    throw new CriteriaError(key, message, this.text, offset + 1);
  }
}
