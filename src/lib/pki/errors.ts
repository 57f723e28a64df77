/** The PKI codecs' own error types: their messages are our words. */
const PKI_ERROR_NAMES: ReadonlySet<string> = new Set(['DerError', 'EnvelopeError', 'SignedDataError']);

/**
 * The reason to pass on (a log line, a CertRep's failInfoText, an HTTP answer): an error of our
 * own says it itself; anything else (OpenSSL via node:crypto, an engine error) is not repeated.
 * `alsoOwn` names further error types a caller's codec throws.
 */
export function ownReason(err: unknown, otherwise = 'unreadable', alsoOwn?: ReadonlySet<string>): string {
  if (!(err instanceof Error) || !(PKI_ERROR_NAMES.has(err.name) || alsoOwn?.has(err.name) === true)) return otherwise;
  // A SignedDataError may carry a message from OpenSSL (an unreadable certificate): own === false
  return (err as { own?: boolean }).own === false ? otherwise : err.message;
}
