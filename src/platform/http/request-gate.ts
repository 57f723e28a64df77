// The gate in front of the app: answers 503 (Retry-After: 1, Connection: close, the error
// envelope) until the app is ready and once stopping, and counts the requests in flight so a
// stop can wait for them. Those 503s are access-logged like any other request.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { AccessLogMiddleware } from './access-log.js';
import { DomainError } from '../errors/index.js';
import { apiErrorFrom, envelope } from './errors.js';

export class RequestGate {
  private app: RequestListener | undefined;
  private stopping = false;
  private readonly inFlight = new Set<ServerResponse>();
  private onDrained: (() => void) | undefined;

  constructor(private readonly log: AccessLogMiddleware) {}

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const app = this.app;
    if (!app || this.stopping) {
      this.log(req, res, () => unavailable(req, res, this.stopping ? 'mockiron is shutting down' : 'mockiron is starting'));
      return;
    }
    this.inFlight.add(res);
    res.once('close', () => {
      this.inFlight.delete(res);
      if (this.inFlight.size === 0) this.onDrained?.();
    });
    app(req, res);
  };

  open(app: RequestListener): void {
    this.app = app;
  }

  /** Stops passing requests to the app; resolves once those in flight are done, or after graceMs with how many are not. */
  stop(graceMs: number): Promise<number> {
    this.stopping = true;
    // Answers still to come end their connection, so no client reuses one about to be closed.
    for (const res of this.inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
    if (this.inFlight.size === 0) return Promise.resolve(0);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(this.inFlight.size), graceMs);
      this.onDrained = () => {
        clearTimeout(timer);
        resolve(0);
      };
    });
  }
}

function unavailable(req: IncomingMessage, res: ServerResponse, message: string): void {
  // The body is not wanted; read and drop it so closing the connection does not reset it
  // before the client has read the answer.
  req.resume();
  const body = JSON.stringify(envelope(apiErrorFrom(new DomainError('server.unavailable', message))));
  res.writeHead(503, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Retry-After': '1',
    Connection: 'close',
  });
  res.end(body);
}
