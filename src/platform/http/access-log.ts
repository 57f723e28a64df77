// The access log: one line per request at info level through the one logger, written when the
// response is done (or cut). It records what happened, never what was said: method, path
// without its query string (queries carry secrets, e.g. /ota/enroll?token=, /scep?message=),
// status, duration, bytes in and out, and who the caller was once authenticated. No headers
// (Authorization), no bodies.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../logger.js';

const subjects = new WeakMap<IncomingMessage, string>();
const operations = new WeakMap<IncomingMessage, string>();

/**
 * Names who a request acted as in its access-log line, once authenticated: `admin:<username>`
 * (the admin authenticator calls it) or `device:<uuid>` (for device endpoints, once the device is
 * known). Never a credential; only the last call counts.
 */
export function noteSubject(req: IncomingMessage, subject: string): void {
  subjects.set(req, subject);
}

/**
 * Names what a request asked for when its path alone does not say: the MDM message a device
 * sent (`Idle`, `Acknowledged`, `TokenUpdate`...; one URL takes polls and results alike, and a
 * result is committed before it is answered) or the SCEP operation (`PKIOperation`). Only names
 * from a fixed vocabulary, never a value the client chose.
 */
export function noteOperation(req: IncomingMessage, kind: string): void {
  operations.set(req, kind);
}

/** Socket byte counters when the previous response on a keep-alive connection was done. */
const counted = new WeakMap<Socket, { read: number; written: number }>();

/** Paths are bounded by the header limit anyway; a line stays short even for a 16 KB path. */
const maxPathLength = 512;

export type AccessLogMiddleware = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

export function accessLog(logger: Logger): AccessLogMiddleware {
  return (req, res, next) => {
    const started = performance.now();
    // Read now: a TLS socket no longer knows its peer once closed, and a request whose upload
    // was cut off (a refused bulk import) has no socket any more when its answer closes.
    const socket = req.socket;
    const ip = socket.remoteAddress;
    res.once('close', () => {
      const url = (req as { originalUrl?: string }).originalUrl ?? req.url ?? '';
      const cut = url.search(/[?#]/);
      let path = cut < 0 ? url : url.slice(0, cut);
      if (path.length > maxPathLength) path = `${path.slice(0, maxPathLength)}…`;
      // Bytes on the wire for this request and its answer, headers included: the socket's
      // counters since the previous response on the same connection. The body stream itself is
      // not touched (listening to it would change how the body parsers read it).
      const before = counted.get(socket) ?? { read: 0, written: 0 };
      const now = { read: socket.bytesRead, written: socket.bytesWritten };
      counted.set(socket, now);
      logger.info(
        {
          method: req.method,
          path,
          status: res.statusCode,
          durationMs: Math.round((performance.now() - started) * 10) / 10,
          bytesIn: now.read - before.read,
          bytesOut: now.written - before.written,
          subject: subjects.get(req) ?? null,
          ...(operations.has(req) ? { operation: operations.get(req) } : {}),
          ip,
          // The client went away, or the server cut the connection, before the answer was sent.
          ...(res.writableFinished ? {} : { aborted: true }),
        },
        'request',
      );
    });
    next();
  };
}
