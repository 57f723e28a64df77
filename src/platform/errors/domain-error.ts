// The one error domain code throws: a stable code from the catalogue, hence a kind and a
// message key, and a message a person can act on. Edges render it (HTTP envelope, device
// plain text, CLI exit code); domain code never chooses a status.
import { errorCatalogue, type ErrorCode, type ErrorKind } from './catalogue.js';

/** A further message of the same error, e.g. one per invalid CSV row. */
export interface ErrorDetail {
  code: ErrorCode;
  message: string;
  /** Fields that name the cause, e.g. `row` and `field`. */
  details?: Record<string, unknown>;
}

export class DomainError extends Error {
  readonly kind: ErrorKind;
  readonly messageKey: string;

  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Fields that name the cause, shown next to the message: `field`, `row`, `column`... */
    readonly details: Record<string, unknown> = {},
    /** Further messages, e.g. one per invalid CSV row. */
    readonly more: ErrorDetail[] = [],
  ) {
    super(message);
    this.name = 'DomainError';
    const entry = errorCatalogue[code];
    this.kind = entry.kind;
    this.messageKey = entry.messageKey;
  }

  /** The field a validation error names, if any. */
  get field(): string | undefined {
    return typeof this.details.field === 'string' ? this.details.field : undefined;
  }

  /** A request value that breaks a rule: the message names the field first. */
  static validation(field: string, message: string): DomainError {
    return new DomainError('request.invalid', field ? `${field}: ${message}` : message, { field });
  }

  static notFound(what: string, id: string | number): DomainError {
    return new DomainError('resource.notFound', `${what} ${id} not found`);
  }

  static forbidden(message: string): DomainError {
    return new DomainError('auth.forbidden', message);
  }
}
