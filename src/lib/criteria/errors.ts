// CriteriaError: a message a person can act on, plus the column and a caret excerpt.

export type CriteriaErrorKey =
  | 'criteria.too_long'
  | 'criteria.too_deep'
  | 'criteria.unterminated_string'
  | 'criteria.unknown_field'
  | 'criteria.invalid_custom_attribute'
  | 'criteria.expected_field'
  | 'criteria.missing_operator'
  | 'criteria.unknown_operator'
  | 'criteria.operator_not_allowed'
  | 'criteria.missing_value'
  | 'criteria.bad_value'
  | 'criteria.unclosed_parenthesis'
  | 'criteria.unmatched_parenthesis'
  | 'criteria.empty_parentheses'
  | 'criteria.trailing_garbage';

/** Longest excerpt shown whole; longer expressions show a window around the column. */
const EXCERPT_WIDTH = 80;

export class CriteriaError extends Error {
  override readonly name = 'CriteriaError';
  /** 1-based column (UTF-16 code units) the problem starts at; may be one past the end. */
  readonly column: number;
  /** The expression (or a window of it) and, on a second line, a caret under the column. */
  readonly excerpt: string;
  /** Stable identifier of the kind of problem, for clients and translations. */
  readonly messageKey: CriteriaErrorKey;

  constructor(messageKey: CriteriaErrorKey, message: string, text: string, column: number) {
    super(`${message} (column ${column})`);
    this.messageKey = messageKey;
    this.column = column;
    this.excerpt = buildExcerpt(text, column);
  }

  /** Message and excerpt together, ready for a terminal or a log line. */
  get report(): string {
    return `${this.message}\n${this.excerpt}`;
  }
}

export function buildExcerpt(text: string, column: number): string {
  // Tabs and newlines would throw the caret off; show them as spaces.
  const flat = text.replace(/[\t\n\r\v\f]/g, ' ');
  const index = column - 1;
  if (flat.length <= EXCERPT_WIDTH) return `${flat}\n${' '.repeat(index)}^`;

  let start = Math.max(0, index - Math.floor(EXCERPT_WIDTH / 2));
  const end = Math.min(flat.length, start + EXCERPT_WIDTH);
  start = Math.max(0, end - EXCERPT_WIDTH);
  const prefix = start > 0 ? '…' : '';
  const suffix = end < flat.length ? '…' : '';
  return `${prefix}${flat.slice(start, end)}${suffix}\n${' '.repeat(prefix.length + index - start)}^`;
}

/** Quotes a piece of the user's input for a message. */
export function quoteForMessage(text: string): string {
  return JSON.stringify(text);
}
