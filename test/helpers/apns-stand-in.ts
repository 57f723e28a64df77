// A local stand-in for Apple's APNs provider API: an HTTP/2 TLS server that checks what Apple's
// service checks for a certificate-authenticated MDM push and answers with the statuses and
// reasons Apple documents ("Sending notification requests to APNs", "Handling notification
// responses from APNs"): the client certificate must chain to the issuer it trusts and its UID
// must be the apns-topic; POST /3/device/<64 hex>; apns-push-type mdm; apns-priority 5 or 10;
// apns-expiration a UNIX time; a JSON body {"mdm": PushMagic} within 4 kB. What each token gets
// back is the test's choice: 200, 410 Unregistered, 429 TooManyRequests, or no answer at all.
// Certificates are made with the openssl command line (a tool nobody here wrote).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import type { X509Certificate } from 'node:crypto';

export interface ReceivedPush {
  token: string;
  headers: Record<string, string>;
  body: unknown;
  at: number;
  /** What the stand-in answered (0: nothing). */
  status: number;
}

/** `hold`: no answer until release() (then 200); `hang`: never an answer. */
export type Behaviour = 'ok' | 'unregistered' | 'throttle' | 'hang' | 'hold' | 'server-error';

export interface PushCertificateFiles {
  certificatePem: string;
  keyPem: string;
  /** PKCS#12 of both (passphrase `passphrase`), base64. */
  pkcs12: string;
  passphrase: string;
}

export interface ApnsStandIn {
  url: string;
  /** PEM of the CA the stand-in's server certificate chains to (MOCKIRON_APNS_CA_FILE). */
  caFile: string;
  received: ReceivedPush[];
  /** What a token gets; the default answers 200. */
  behaviour: (token: string, attempt: number) => Behaviour;
  /** A push certificate the stand-in accepts (issued by its "Apple" CA), with this topic. */
  pushCertificate(topic: string, opts?: { days?: number }): PushCertificateFiles;
  /** Answers 200 to every push held so far. */
  release(): void;
  close(): Promise<void>;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A self-signed MDM push certificate with this topic (UID), without a stand-in: for upload tests. */
export function selfSignedPushCertificate(topic: string): { certificatePem: string; keyPem: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'push-cert-'));
  try {
    openssl(
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        'push.key',
        '-out',
        'push.pem',
        '-days',
        '365',
        '-subj',
        `/UID=${topic}/CN=APSP:${topic.slice(-36)}`,
      ],
      dir,
    );
    return { certificatePem: readFileSync(path.join(dir, 'push.pem'), 'utf8'), keyPem: readFileSync(path.join(dir, 'push.key'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function startApnsStandIn(): Promise<ApnsStandIn> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'apns-stand-in-'));
  // One CA stands for Apple: it issues the server's certificate and the push certificates.
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '2',
      '-subj',
      '/CN=Stand-in Apple Push CA',
    ],
    dir,
  );
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'], dir);
  writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(
    [
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'server.pem',
      '-days',
      '2',
      '-extfile',
      'server.ext',
    ],
    dir,
  );
  const caPem = readFileSync(path.join(dir, 'ca.pem'), 'utf8');
  const received: ReceivedPush[] = [];
  const attempts = new Map<string, number>();
  const hanging = new Set<http2.ServerHttp2Stream>();
  const held: Array<() => void> = [];

  const server = http2.createSecureServer({
    key: readFileSync(path.join(dir, 'server.key')),
    cert: readFileSync(path.join(dir, 'server.pem')),
    ca: caPem,
    requestCert: true,
    // Checked per request, so a missing or foreign certificate gets APNs's 403, not a TLS alert.
    rejectUnauthorized: false,
  });
  const standIn: ApnsStandIn = {
    url: '',
    caFile: path.join(dir, 'ca.pem'),
    received,
    behaviour: () => 'ok',
    pushCertificate(topic, opts = {}) {
      const name = `push-${received.length}-${Math.random().toString(36).slice(2, 8)}`;
      openssl(
        [
          'req',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-keyout',
          `${name}.key`,
          '-out',
          `${name}.csr`,
          '-subj',
          `/UID=${topic}/CN=APSP:${topic.slice(-36)}/C=US`,
        ],
        dir,
      );
      openssl(
        [
          'x509',
          '-req',
          '-in',
          `${name}.csr`,
          '-CA',
          'ca.pem',
          '-CAkey',
          'ca.key',
          '-CAcreateserial',
          '-out',
          `${name}.pem`,
          '-days',
          String(opts.days ?? 365),
        ],
        dir,
      );
      openssl(
        ['pkcs12', '-export', '-inkey', `${name}.key`, '-in', `${name}.pem`, '-out', `${name}.p12`, '-passout', 'pass:passphrase'],
        dir,
      );
      return {
        certificatePem: readFileSync(path.join(dir, `${name}.pem`), 'utf8'),
        keyPem: readFileSync(path.join(dir, `${name}.key`), 'utf8'),
        pkcs12: readFileSync(path.join(dir, `${name}.p12`)).toString('base64'),
        passphrase: 'passphrase',
      };
    },
    release() {
      for (const answer of held.splice(0)) answer();
    },
    close: async () => {
      for (const stream of hanging) stream.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };

  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const answer = (status: number, reason?: string) => {
        push.status = status;
        stream.respond({
          ':status': status,
          'apns-id': '00000000-0000-0000-0000-000000000000',
          ...(reason ? { 'content-type': 'application/json' } : {}),
        });
        stream.end(reason ? JSON.stringify(status === 410 ? { reason, timestamp: Date.now() } : { reason }) : undefined);
      };
      const pathMatch = /^\/3\/device\/([^/?]+)$/.exec(String(headers[':path']));
      const token = pathMatch?.[1] ?? '';
      const flat: Record<string, string> = {};
      for (const [k, v] of Object.entries(headers)) if (typeof v === 'string') flat[k] = v;
      let body: unknown = null;
      const raw = Buffer.concat(chunks);
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        body = raw.toString('utf8');
      }
      const push: ReceivedPush = { token, headers: flat, body, at: Date.now(), status: 0 };
      received.push(push);

      const socket = stream.session?.socket as TLSSocket | undefined;
      const peer = socket?.getPeerX509Certificate?.();
      if (!socket?.authorized || !peer) return answer(403, 'BadCertificate');
      const certTopic = topicOf(peer);
      if (headers[':method'] !== 'POST') return answer(405, 'MethodNotAllowed');
      if (!pathMatch) return answer(404, 'BadPath');
      if (!/^[0-9a-f]{64}$/i.test(token)) return answer(400, 'BadDeviceToken');
      if (!headers['apns-topic']) return answer(400, 'MissingTopic');
      if (headers['apns-topic'] !== certTopic) return answer(400, 'DeviceTokenNotForTopic');
      if (headers['apns-push-type'] !== 'mdm') return answer(400, 'InvalidPushType');
      if (headers['apns-priority'] !== undefined && !['5', '10'].includes(String(headers['apns-priority'])))
        return answer(400, 'BadPriority');
      if (headers['apns-expiration'] !== undefined && !/^\d+$/.test(String(headers['apns-expiration'])))
        return answer(400, 'BadExpirationDate');
      if (!raw.length) return answer(400, 'PayloadEmpty');
      if (raw.length > 4096) return answer(413, 'PayloadTooLarge');
      const keys = body && typeof body === 'object' ? Object.keys(body) : [];
      if (keys.length !== 1 || typeof (body as { mdm?: unknown }).mdm !== 'string') return answer(400, 'BadMdmPayload');
      const attempt = (attempts.get(token) ?? 0) + 1;
      attempts.set(token, attempt);
      switch (standIn.behaviour(token, attempt)) {
        case 'ok':
          return answer(200);
        case 'unregistered':
          return answer(410, 'Unregistered');
        case 'throttle':
          return answer(429, 'TooManyRequests');
        case 'server-error':
          return answer(503, 'ServiceUnavailable');
        case 'hold':
          held.push(() => answer(200));
          return;
        case 'hang':
          hanging.add(stream);
          stream.on('close', () => hanging.delete(stream));
          return;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  standIn.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return standIn;
}

function topicOf(certificate: X509Certificate): string | undefined {
  for (const line of certificate.subject.split('\n')) if (line.startsWith('UID=')) return line.slice(4);
  return undefined;
}
