// The HTTP rendering of errors: Core's envelope {"messages":[{"type":"Error","messageKey",
// "localizedMessage"}]} with a status. Domain code throws DomainError (src/platform/errors); this
// edge maps its kind to a status (admin API: the envelope; device endpoints: plain text).
// ApiError is the rendered form, thrown directly only for pure HTTP concerns.
import { z } from 'zod';
import { errorCatalogue, type DomainError, type ErrorKind } from '../errors/index.js';

export interface ErrorMessage {
  type: 'Error';
  messageKey: string;
  localizedMessage: string;
  [extra: string]: unknown;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly messageKey: string,
    message: string,
    /** Extra fields for the first message, e.g. the offending `field` or a criteria `column`. */
    readonly extra: Record<string, unknown> = {},
    /** Further messages, e.g. one per invalid CSV row. */
    readonly more: ErrorMessage[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }

  static badRequest(messageKey: string, message: string, extra: Record<string, unknown> = {}) {
    return new ApiError(400, messageKey, message, extra);
  }
  static validation(field: string, message: string) {
    return new ApiError(400, 'com.mobileiron.vsp.messages.validation', field ? `${field}: ${message}` : message, { field });
  }
  static notFound(what: string, id: string | number) {
    return new ApiError(404, 'com.mobileiron.vsp.messages.http.404', `${what} ${id} not found`);
  }
  static conflict(messageKey: string, message: string) {
    return new ApiError(409, messageKey, message);
  }
  static forbidden(message = 'This operation requires the admin role') {
    return new ApiError(403, 'com.mobileiron.vsp.messages.http.403', message);
  }
}

/** The HTTP status of each kind of domain error. */
export const httpStatusOfKind: Record<ErrorKind, number> = {
  validation: 400,
  unauthenticated: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  gone: 410,
  'payload-too-large': 413,
  'unsupported-media-type': 415,
  'too-many-requests': 429,
  internal: 500,
  unavailable: 503,
};

/** A domain error as the admin API answers it: the kind's status, Core's envelope. */
export function apiErrorFrom(err: DomainError): ApiError {
  const more = err.more.map((m): ErrorMessage => ({
    type: 'Error',
    messageKey: errorCatalogue[m.code].messageKey,
    localizedMessage: m.message,
    ...m.details,
  }));
  return new ApiError(httpStatusOfKind[err.kind], err.messageKey, err.message, err.details, more);
}

/** A domain error as a device endpoint answers it: the kind's status and the message as one line of text. */
export function deviceAnswerFrom(err: DomainError): { status: number; body: string; headers: { 'Content-Type': string } } {
  return { status: httpStatusOfKind[err.kind], body: `${err.message}\n`, headers: { 'Content-Type': 'text/plain; charset=utf-8' } };
}

export function envelope(err: ApiError): { messages: ErrorMessage[] } {
  return {
    messages: [{ type: 'Error', messageKey: err.messageKey, localizedMessage: err.message, ...err.extra }, ...err.more],
  };
}

/** The envelope as the OpenAPI document describes it (one named component, every error status). */
export const errorEnvelopeSchema = z
  .object({
    messages: z
      .array(
        z
          .object({ type: z.literal('Error'), messageKey: z.string(), localizedMessage: z.string() })
          .loose()
          .describe('Further fields name the cause, e.g. field, row or column'),
      )
      .min(1),
  })
  .describe('The one error envelope of the admin API');
