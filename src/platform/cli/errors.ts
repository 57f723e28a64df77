import type { DomainError, ErrorKind } from '../errors/index.js';

/** An error meant for the person at the terminal: printed as one line, no stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/**
 * The exit code of each kind of domain error reaching the terminal. 1 stays the general failure
 * and 2 the usage error, as every command already answers; the others tell scripts why.
 */
export const exitCodeOfKind: Record<ErrorKind, number> = {
  internal: 1,
  validation: 2,
  'payload-too-large': 2,
  'unsupported-media-type': 2,
  'not-found': 3,
  gone: 3,
  conflict: 4,
  unauthenticated: 5,
  forbidden: 5,
  'too-many-requests': 6,
  unavailable: 6,
};

/** A domain error as the CLI reports it: its message on one line, its kind's exit code. */
export function cliErrorFrom(err: DomainError): CliError {
  return new CliError(err.message, exitCodeOfKind[err.kind]);
}

/**
 * What a command's failure tells the person at the terminal: a CliError as it is, a domain error
 * by its kind; anything else is unexpected (undefined). Domain errors are recognised by shape, not
 * by class, so that `mockiron --help` does not load the error model.
 */
export function asCliError(err: unknown): CliError | undefined {
  if (err instanceof CliError) return err;
  if (isDomainError(err)) return cliErrorFrom(err);
  return undefined;
}

function isDomainError(err: unknown): err is DomainError {
  return err instanceof Error && err.name === 'DomainError' && Object.hasOwn(exitCodeOfKind, (err as { kind?: unknown }).kind as string);
}

/**
 * Ends a command with a non-zero exit code after it has said all it had to say: an outcome, not
 * a failure (e.g. `perapp check` → 3 for "denied"). run() prints nothing more for it.
 */
export class CliExit extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
    this.name = 'CliExit';
  }
}
