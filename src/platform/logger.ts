// The one logger. Secrets are redacted by key wherever they appear in a log object.
import { pino, type Logger } from 'pino';

export type { Logger };

const secretKeys = ['password', 'passwordHash', 'authorization', 'challenge', 'privateKey', 'key', 'passphrase', 'secret', 'token'];

export function createLogger(level = 'info', destination?: NodeJS.WritableStream): Logger {
  const redact = secretKeys.flatMap((k) => [k, `*.${k}`, `*.*.${k}`, `req.headers.${k}`]);
  return pino({ level, redact: { paths: redact, censor: '[redacted]' } }, destination as any);
}
