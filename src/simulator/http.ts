// The simulator's HTTP client: node:http(s) rather than fetch, because the drop-connection fault
// needs to abort exactly after the request body has been written and before the answer is read.
// Every request is timed and recorded under a "kind" (ota-profile, connect-result, ...).

import http from 'node:http';
import https from 'node:https';
import type { Metrics } from './metrics.js';

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface HttpRequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  /** Default 30 s. */
  timeoutMs?: number;
  /** Destroy the socket as soon as the request is flushed; resolves with undefined. */
  dropAfterSend?: boolean;
}

export class HttpError extends Error {
  constructor(
    message: string,
    /** Node's error code (ECONNREFUSED, ETIMEDOUT, ...) when the request never got an answer. */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export interface HttpClient {
  request(kind: string, url: string, options?: HttpRequestOptions & { dropAfterSend?: false }): Promise<HttpResponse>;
  request(kind: string, url: string, options: HttpRequestOptions & { dropAfterSend: true }): Promise<undefined>;
  request(kind: string, url: string, options?: HttpRequestOptions): Promise<HttpResponse | undefined>;
  close(): void;
}

export function createHttpClient(options: { metrics?: Metrics; maxSockets?: number } = {}): HttpClient {
  // Keep-alive like a device's NSURLSession; bounded so a large fleet cannot exhaust file descriptors
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 64 };
  const httpAgent = new http.Agent(agentOptions);
  const httpsAgent = new https.Agent(agentOptions);

  function request(kind: string, url: string, opts: HttpRequestOptions = {}): Promise<HttpResponse | undefined> {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return Promise.reject(new HttpError(`not a URL: ${url}`, 'EINVALIDURL'));
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      return Promise.reject(new HttpError(`unsupported URL scheme: ${url}`, 'EINVALIDURL'));
    }
    const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? Buffer.from(opts.body, 'utf8') : opts.body;
    const headers: Record<string, string> = { 'User-Agent': 'MDM/1.0 mockiron-simulator', ...opts.headers };
    if (body !== undefined) headers['Content-Length'] = String(body.byteLength);
    const transport = target.protocol === 'https:' ? https : http;
    const started = performance.now();
    // A kept-alive socket the server closed at the moment we reused it fails with ECONNRESET
    // before the server saw the request; like NSURLSession, send again on a new connection.
    const attempt = (retriesLeft: number): Promise<HttpResponse | undefined> =>
      new Promise((resolve, reject) => {
        let settled = false;
        const finish = (status: number | string) => options.metrics?.recordRequest(kind, performance.now() - started, status);
        const req = transport.request(
          target,
          {
            method: opts.method ?? 'GET',
            headers,
            agent: target.protocol === 'https:' ? httpsAgent : httpAgent,
            // A dropped connection must not be handed back to the pool
            ...(opts.dropAfterSend && { agent: false }),
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () => {
              if (settled) return;
              settled = true;
              finish(res.statusCode ?? 0);
              resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
            });
            res.on('error', (err) => {
              if (settled) return;
              settled = true;
              finish('network-error');
              reject(new HttpError(`${kind}: ${err.message}`, (err as NodeJS.ErrnoException).code));
            });
          },
        );
        req.setTimeout(opts.timeoutMs ?? 30_000, () =>
          req.destroy(Object.assign(new Error(`timed out after ${opts.timeoutMs ?? 30_000} ms`), { code: 'ETIMEDOUT' })),
        );
        req.on('error', (err) => {
          if (settled) return;
          settled = true;
          const code = (err as NodeJS.ErrnoException).code;
          if (req.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE') && retriesLeft > 0 && !opts.dropAfterSend) {
            resolve(attempt(retriesLeft - 1));
            return;
          }
          finish('network-error');
          reject(new HttpError(`${kind} ${target.origin}${target.pathname}: ${err.message}`, (err as NodeJS.ErrnoException).code));
        });
        if (opts.dropAfterSend) {
          req.on('finish', () => {
            // Give the bytes a moment to leave the socket, then hang up without reading the answer
            setImmediate(() => {
              if (settled) return;
              settled = true;
              finish('dropped');
              req.destroy();
              resolve(undefined);
            });
          });
        }
        req.end(body);
      });
    return attempt(2);
  }

  return {
    request: request as HttpClient['request'],
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}

/** The header value as one string (node gives arrays for repeated headers). */
export function headerValue(headers: http.IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}
