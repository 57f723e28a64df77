// Wake on push: the simulator stands in for Apple's push service. mockiron is pointed at this
// listener (MOCKIRON_APNS_URL, with MOCKIRON_APNS_CA_FILE trusting its certificate); a push for a
// device's token wakes that device, which then connects, as an iPad does when APNs wakes it.
// It answers as APNs does: 200, 410 Unregistered for a token no device holds, 400 for a request
// Apple would refuse (wrong push type, topic or PushMagic).
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';

export interface PushListenerOptions {
  host: string;
  port: number;
  /** PEM server certificate and key (mockiron must trust the certificate). */
  certPem: string;
  keyPem: string;
  /** The device a hex token belongs to, with what its push must carry; undefined: unknown token. */
  lookup(tokenHex: string): { topic: string; pushMagic: string; wake(): void } | undefined;
}

export interface PushListener {
  port: number;
  /** Pushes answered 200 (each woke a device). */
  delivered: number;
  refused: number;
  close(): Promise<void>;
}

export async function startPushListener(options: PushListenerOptions): Promise<PushListener> {
  const server = http2.createSecureServer({ cert: options.certPem, key: options.keyPem, requestCert: true, rejectUnauthorized: false });
  // The server keeps its connection open: close() ends it rather than wait for it.
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  const listener: PushListener = {
    port: 0,
    delivered: 0,
    refused: 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const session of sessions) session.destroy();
      }),
  };
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= 4096) chunks.push(c);
    });
    stream.on('end', () => {
      const answer = (status: number, reason?: string) => {
        if (status === 200) listener.delivered++;
        else listener.refused++;
        stream.respond({ ':status': status, ...(reason ? { 'content-type': 'application/json' } : {}) });
        stream.end(reason ? JSON.stringify({ reason }) : undefined);
      };
      // APNs authenticates the provider by its certificate; any will do for a simulator.
      if (!(stream.session?.socket as TLSSocket | undefined)?.getPeerCertificate()?.raw) return answer(403, 'MissingProviderToken');
      if (headers[':method'] !== 'POST') return answer(405, 'MethodNotAllowed');
      const token = /^\/3\/device\/([0-9a-fA-F]{64})$/.exec(String(headers[':path']))?.[1];
      if (!token) return answer(400, 'BadDeviceToken');
      if (size > 4096) return answer(413, 'PayloadTooLarge');
      const device = options.lookup(token.toLowerCase());
      if (!device) return answer(410, 'Unregistered');
      if (headers['apns-push-type'] !== 'mdm') return answer(400, 'InvalidPushType');
      if (headers['apns-topic'] !== device.topic) return answer(400, 'DeviceTokenNotForTopic');
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return answer(400, 'PayloadEmpty');
      }
      if ((body as { mdm?: unknown } | null)?.mdm !== device.pushMagic) return answer(400, 'BadPushMagic');
      answer(200);
      device.wake();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  listener.port = (server.address() as AddressInfo).port;
  return listener;
}
