import { z } from 'zod';
import { DomainError } from '../platform/errors/index.js';
import { noteOperation } from '../platform/http/access-log.js';
import { deviceAnswerFrom } from '../platform/http/errors.js';
import { Reply, type RouteTable } from '../platform/http/route.js';
import { uuidParam } from '../platform/http/validators.js';
import { MAX_CHALLENGE_TTL_MINUTES, ScepUnavailableError, type ScepService } from './service.js';

const textHeaders = { 'Content-Type': 'text/plain; charset=utf-8' };
const pkiMessageType = 'application/x-pki-message';

// SCEP clients read the status line and maybe a line of text: errors here are plain text, not the
// admin API's JSON envelope.
const textReply = (status: number, message: string) => new Reply(status, `${message}\n`, textHeaders);

/** Base64 from a query string: '+' may arrive as ' ' when the client did not URL-encode it. */
function decodeQueryMessage(message: string): Buffer | undefined {
  const cleaned = message.replace(/ /g, '+').replace(/[\r\n]/g, '');
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(cleaned)) return undefined;
  const bytes = Buffer.from(cleaned, 'base64');
  return bytes.length ? bytes : undefined;
}

async function pkiOperation(scep: ScepService, messageDer: Buffer): Promise<Reply> {
  const outcome = await scep.pkiOperation(messageDer);
  // The service logs why; the reason may quote a parser or OpenSSL, so the client reads our words only
  if (outcome.kind === 'unanswerable') return textReply(400, 'not a SCEP PKIMessage this CA can answer');
  return new Reply(200, outcome.body, { 'Content-Type': pkiMessageType });
}

/** The operations the access log names (any other text in `operation=` is the client's own). */
const scepOperations = new Set(['GetCACaps', 'GetCACert', 'PKIOperation']);

/** 503 for every operation while the CA key is not held here. */
async function guarded(handler: () => Reply | Promise<Reply>): Promise<Reply> {
  try {
    return await handler();
  } catch (err) {
    if (err instanceof ScepUnavailableError) {
      const answer = deviceAnswerFrom(new DomainError('scep.unavailable', err.message));
      return new Reply(answer.status, answer.body, answer.headers);
    }
    throw err;
  }
}

const scepQuery = z.object({
  operation: z.string().optional().describe('GetCACaps, GetCACert or PKIOperation'),
  message: z.string().optional().describe('GET PKIOperation: the base64 (URL-encoded) DER PKIMessage; ignored otherwise'),
});

/** Device-facing SCEP (RFC 8894), on the device router at the root: /scep. */
export function registerScepRoutes(t: RouteTable, scep: ScepService): void {
  const tag = 'SCEP';
  t.add({
    method: 'get',
    path: '/scep',
    tag,
    auth: 'public',
    query: scepQuery,
    errors: [503],
    responseMediaType: ['text/plain', 'application/x-x509-ca-cert', 'application/x-x509-ca-ra-cert', pkiMessageType],
    summary: 'SCEP: GetCACaps (text/plain), GetCACert (DER CA certificate) or PKIOperation with a base64 message (CertRep)',
    handler: ({ query, req }) =>
      guarded(async () => {
        if (query.operation && scepOperations.has(query.operation)) noteOperation(req, query.operation);
        switch (query.operation) {
          case 'GetCACaps':
            return new Reply(200, scep.getCaCaps(), textHeaders);
          case 'GetCACert': {
            const { contentType, body } = scep.getCaCert();
            return new Reply(200, body, { 'Content-Type': contentType });
          }
          case 'PKIOperation': {
            scep.getCaCaps(); // availability first: a 503 says more than a 400 about the message
            const messageDer = query.message === undefined ? undefined : decodeQueryMessage(query.message);
            if (!messageDer) return textReply(400, 'PKIOperation by GET needs message=<base64 DER PKIMessage>');
            return pkiOperation(scep, messageDer);
          }
          default:
            return textReply(
              400,
              query.operation === undefined ? 'missing operation parameter' : `unsupported SCEP operation ${query.operation}`,
            );
        }
      }),
  });
  t.add({
    method: 'post',
    path: '/scep',
    tag,
    auth: 'public',
    query: scepQuery,
    bodyMediaType: pkiMessageType,
    responseMediaType: pkiMessageType,
    errors: [503],
    summary: 'SCEP PKIOperation: the body is a DER PKIMessage (PKCSReq, RenewalReq, GetCertInitial); the answer is a CertRep',
    handler: ({ query, req }) =>
      guarded(async () => {
        if (query.operation !== 'PKIOperation') {
          return textReply(
            400,
            query.operation === undefined ? 'missing operation parameter' : `unsupported SCEP operation ${query.operation} by POST`,
          );
        }
        noteOperation(req, query.operation);
        scep.getCaCaps();
        const body: unknown = req.body;
        if (!Buffer.isBuffer(body) || body.length === 0) return textReply(400, 'PKIOperation needs the DER PKIMessage as the request body');
        return pkiOperation(scep, body);
      }),
  });
}

/** Admin API (/api/v2): one-time challenges (the certificates issued are src/certificates). */
export function registerScepAdminRoutes(t: RouteTable, scep: ScepService): void {
  const tag = 'SCEP';
  t.add({
    method: 'post',
    status: 201,
    path: '/scep/challenges',
    tag,
    errors: [404],
    summary: 'Mint a one-time SCEP challenge password (shown in this response only; stored as a hash)',
    body: z.strictObject({
      ttlMinutes: z.number().int().min(1).max(MAX_CHALLENGE_TTL_MINUTES).optional().describe('Default 60'),
      deviceUuid: uuidParam.optional().describe('Tie the certificate to this device'),
    }),
    results: z.object({ challenge: z.string(), expiresAt: z.string(), url: z.string() }),
    handler: async ({ actor, body }) => new Reply(201, { results: await scep.createChallenge(actor, body) }),
  });
}
