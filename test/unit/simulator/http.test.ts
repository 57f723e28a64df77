import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpClient, HttpError } from '../../../src/simulator/http.js';

// A raw TCP server, so the test decides exactly when a kept-alive connection dies.
let server: net.Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

function listen(onRequest: (socket: net.Socket, connection: number, requestOnConnection: number) => void): Promise<string> {
  let connections = 0;
  server = net.createServer((socket) => {
    const connection = ++connections;
    let requests = 0;
    socket.on('data', () => onRequest(socket, connection, ++requests));
  });
  return new Promise((resolve) =>
    server!.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server!.address() as AddressInfo).port}/`)),
  );
}

const ok = (body: string) => `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nConnection: keep-alive\r\n\r\n${body}`;

describe('simulator HTTP client', () => {
  it('sends again on a new connection when a reused keep-alive socket turns out closed', async () => {
    const url = await listen((socket, connection, request) => {
      // The first connection answers once, then dies when it is reused (an idle timeout race)
      if (connection === 1 && request === 2) socket.destroy();
      else socket.write(ok(`c${connection}r${request}`));
    });
    const client = createHttpClient();
    try {
      expect((await client.request('t', url)).body.toString()).toBe('c1r1');
      expect((await client.request('t', url)).body.toString()).toBe('c2r1');
    } finally {
      client.close();
    }
  });

  it('does not resend a request whose fresh connection failed', async () => {
    const url = await listen((socket) => socket.destroy());
    const client = createHttpClient();
    try {
      const err = await client.request('t', url).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HttpError);
      expect((err as HttpError).code).toBe('ECONNRESET');
    } finally {
      client.close();
    }
  });
});
