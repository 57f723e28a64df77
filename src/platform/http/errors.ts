// The one error type and envelope: {"messages":[{"type":"Error","messageKey","localizedMessage"}]}.
import { z } from 'zod';

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
