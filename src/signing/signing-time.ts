// The CMS signingTime a CLI signature carries. A signature's bytes change with the signing time
// (RSA PKCS#1 v1.5 is otherwise deterministic), so QA golden files pin it: --signing-time, or
// SOURCE_DATE_EPOCH as the Reproducible Builds convention defines it
// (https://reproducible-builds.org/specs/source-date-epoch/): decimal seconds since the epoch, and
// a malformed value is an error rather than silently ignored.

import { CliError } from '../platform/cli/errors.js';

export const SOURCE_DATE_EPOCH = 'SOURCE_DATE_EPOCH';

/** The word --signing-time takes to leave the attribute out. */
export const NO_SIGNING_TIME = 'none';

// ISO 8601 with a date and, when there is a time, an explicit zone: "2026-01-01", "2026-01-01T00:00:00Z", "…+02:00"
const ISO_8601 = /^\d{4}-\d\d-\d\d(?:T\d\d:\d\d(?::\d\d(?:\.\d{1,9})?)?(?:Z|[+-]\d\d:\d\d))?$/;

// UTCTime and GeneralizedTime cover years 1950 to 9999 (RFC 5280 §4.1.2.5)
const EARLIEST = Date.UTC(1950, 0, 1);
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59);

function inRange(date: Date, what: string): Date {
  if (Number.isNaN(date.getTime())) throw new CliError(`${what}: not a date`);
  if (date.getTime() < EARLIEST || date.getTime() > LATEST) throw new CliError(`${what}: outside 1950–9999, which CMS cannot encode`);
  return date;
}

/**
 * The signing time to sign with: a Date, null for none (the attribute left out), or undefined for
 * now. --signing-time wins over SOURCE_DATE_EPOCH.
 */
export function resolveSigningTime(option: string | undefined, env: Readonly<Record<string, string | undefined>>): Date | null | undefined {
  if (option !== undefined) {
    if (option === NO_SIGNING_TIME) return null;
    if (option.length > 40 || !ISO_8601.test(option)) {
      throw new CliError(
        `--signing-time must be an ISO 8601 date such as 2026-01-01T00:00:00Z, or "${NO_SIGNING_TIME}": ${option.slice(0, 40)}`,
      );
    }
    return inRange(new Date(option), `--signing-time ${option}`);
  }
  const epoch = env[SOURCE_DATE_EPOCH];
  if (epoch === undefined || epoch === '') return undefined;
  if (!/^\d{1,12}$/.test(epoch))
    throw new CliError(`${SOURCE_DATE_EPOCH} must be whole seconds since 1970-01-01 UTC: ${epoch.slice(0, 40)}`);
  return inRange(new Date(Number(epoch) * 1000), `${SOURCE_DATE_EPOCH}=${epoch}`);
}
