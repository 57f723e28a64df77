// A small stand-in for the mockiron server, speaking the contract the simulator codes against:
// admin API (users, enrollments, ca.pem), OTA enrollment, SCEP, /mdm/checkin and /mdm/connect.
// It uses the repository's pure protocol modules as a real server would, so what passes here
// is the real wire format; a test queues commands per device and reads back what devices sent.

import { createPrivateKey, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildEnrollmentProfile, buildProfileServicePayload, scepSubject } from '../../../src/lib/enrollment/payloads.js';
import { parseDeviceAttributes } from '../../../src/enrollment/device-attributes.js';
import {
  decodeCheckin,
  decodeCommandResult,
  encodeCommand,
  verifyMdmSignature,
  type CheckinMessage,
  type CommandResult,
  type MdmCommand,
} from '../../../src/lib/mdm-protocol/index.js';
import { toXmlPlist, type PlistDict } from '../../../src/lib/plist/index.js';
import { buildCertRep, caCaps, caCertResponse, parsePkiMessage } from '../../../src/lib/scep/index.js';
import { signCms, verifyCms } from '../../../src/lib/pki/cms.js';
import { createSigningIdentity, type CertificateAuthority, type SigningIdentity } from '../../../src/signing/identity.js';

export const ADMIN_PASSWORD = 'fake-admin-password';
const NAMESPACE = '6f0f4d2e-9d5b-4a7a-8f35-0c1b8f0e2a11';

export interface FakeServer {
  url: string;
  ca: CertificateAuthority;
  signer: SigningIdentity;
  /** Every check-in message, decoded. */
  checkins: CheckinMessage[];
  /** Every command result (not Idle), decoded. */
  results: CommandResult[];
  /** Command queues by UDID; the head is what the device gets next. */
  queues: Map<string, MdmCommand[]>;
  /** UDIDs answered 401 from now on. */
  revoked: Set<string>;
  /** Status codes the server answered per route, e.g. "PUT /mdm/connect 401". */
  answers: Map<string, number>;
  /** Commands to queue for each device when its TokenUpdate arrives. */
  onEnrolled?: (udid: string) => MdmCommand[];
  enrollmentsCreated: number;
  signProfile(profile: PlistDict): Buffer;
  /** A one-time SCEP challenge, as the admin API mints one (for identity payloads in a profile). */
  mintScepChallenge(): string;
  close(): Promise<void>;
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function startFakeServer(): Promise<FakeServer> {
  const { ca, identity: signer } = createSigningIdentity();
  const caKey: KeyObject = createPrivateKey(ca.exportPrivateKeyPem());
  const caPem = ca.certificatePem;
  const invitations = new Map<string, { challenge: string; used: boolean }>();
  const scepChallenges = new Map<string, { used: boolean }>();
  const signProfile = (profile: PlistDict) => signCms(Buffer.from(toXmlPlist(profile), 'utf8'), signer);

  const fake: FakeServer = {
    url: '',
    ca,
    signer,
    checkins: [],
    results: [],
    queues: new Map(),
    revoked: new Set(),
    answers: new Map(),
    enrollmentsCreated: 0,
    signProfile,
    mintScepChallenge: () => {
      const challenge = randomBytes(12).toString('hex');
      scepChallenges.set(challenge, { used: false });
      return challenge;
    },
    close: async () => undefined,
  };

  function send(res: http.ServerResponse, route: string, status: number, body: Buffer | string = '', type = 'text/plain'): void {
    fake.answers.set(`${route} ${status}`, (fake.answers.get(`${route} ${status}`) ?? 0) + 1);
    res.writeHead(status, { 'Content-Type': type });
    res.end(body);
  }

  function admin(req: http.IncomingMessage): boolean {
    return req.headers.authorization === `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`;
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', fake.url);
    const route = `${req.method} ${url.pathname}`;
    const body = await readBody(req);

    if (route === 'GET /api/v2/signing/ca.pem') return send(res, route, 200, caPem, 'application/x-pem-file');
    if (route === 'POST /api/v2/users') {
      if (!admin(req)) return send(res, route, 401);
      return send(res, route, 201, JSON.stringify({ results: JSON.parse(body.toString()) }), 'application/json');
    }
    if (route === 'POST /api/v2/enrollments') {
      if (!admin(req)) return send(res, route, 401);
      const token = randomBytes(12).toString('hex');
      const challenge = randomBytes(12).toString('hex');
      invitations.set(token, { challenge, used: false });
      fake.enrollmentsCreated++;
      const results = {
        id: fake.enrollmentsCreated,
        url: `${fake.url}/ota/enroll?token=${token}`,
        token,
        challenge,
        expiresAt: new Date(Date.now() + 3600_000).toISOString(),
      };
      return send(res, route, 201, JSON.stringify({ results }), 'application/json');
    }
    if (route === 'GET /ota/enroll') {
      const invitation = invitations.get(url.searchParams.get('token') ?? '');
      if (!invitation) return send(res, route, 404);
      const service = buildProfileServicePayload({
        namespace: NAMESPACE,
        payload: { identifier: 'com.example.fake.ota', displayName: 'Enroll' },
        url: `${fake.url}/ota/profile`,
        challenge: invitation.challenge,
        deviceAttributes: ['UDID', 'VERSION', 'PRODUCT', 'SERIAL', 'IMEI'],
      });
      // Wrapped in a Configuration profile, as the contract describes it
      const profile = {
        PayloadType: 'Configuration',
        PayloadVersion: 1,
        PayloadIdentifier: 'com.example.fake.ota.profile',
        PayloadUUID: randomUUID(),
        PayloadDisplayName: 'Enroll',
        PayloadContent: [service],
      };
      return send(res, route, 200, signProfile(profile), 'application/x-apple-aspen-config');
    }
    if (route === 'POST /ota/profile') {
      let attributes;
      try {
        attributes = parseDeviceAttributes(verifyCms(body).content, { requireChallenge: true });
      } catch {
        return send(res, route, 400);
      }
      const invitation = [...invitations.values()].find((i) => i.challenge === attributes.challenge);
      if (!invitation || invitation.used) return send(res, route, 403);
      invitation.used = true;
      const scepChallenge = randomBytes(12).toString('hex');
      scepChallenges.set(scepChallenge, { used: false });
      const profile = buildEnrollmentProfile({
        namespace: NAMESPACE,
        profile: { identifier: 'com.example.fake.enroll', displayName: 'Fake MDM', organization: 'Fake' },
        caCertificateDer: ca.certificate.raw,
        identity: {
          kind: 'scep',
          url: `${fake.url}/scep`,
          name: 'fake',
          subject: scepSubject([
            ['O', 'Fake'],
            ['CN', attributes.udid],
          ]),
          challenge: scepChallenge,
        },
        mdm: { serverUrl: `${fake.url}/mdm/connect`, checkInUrl: `${fake.url}/mdm/checkin`, topic: 'com.apple.mgmt.External.fake' },
      });
      return send(res, route, 200, signProfile(profile), 'application/x-apple-aspen-config');
    }
    if (url.pathname === '/scep') {
      const operation = url.searchParams.get('operation');
      if (operation === 'GetCACaps') return send(res, route, 200, caCaps());
      if (operation === 'GetCACert') {
        const answer = caCertResponse(ca.certificate.raw);
        return send(res, route, 200, answer.body, answer.contentType);
      }
      if (operation === 'PKIOperation' && req.method === 'POST') {
        const request = parsePkiMessage(body, { caCert: ca.certificate, caKey });
        if (request.messageType !== 'PKCSReq') return send(res, route, 400);
        const challenge = scepChallenges.get(request.csr.challengePassword ?? '');
        const common = {
          transactionID: request.transactionID,
          recipientNonce: request.senderNonce,
          signer: { privateKey: caKey, certificate: ca.certificate },
        };
        if (!challenge || challenge.used) {
          return send(
            res,
            route,
            200,
            buildCertRep({ ...common, status: 'FAILURE', failInfo: 'badRequest', failInfoText: 'challenge used or unknown' }),
            'application/x-pki-message',
          );
        }
        challenge.used = true;
        const issued = ca.issueCertificate({
          subject: { commonName: request.csr.subjectFields.commonName ?? 'device', organization: 'Fake' },
          publicKey: request.csr.publicKey,
          profile: 'device',
        });
        return send(
          res,
          route,
          200,
          buildCertRep({ ...common, status: 'SUCCESS', issuedCertDer: issued.der, requesterCert: request.signerCertificate }),
          'application/x-pki-message',
        );
      }
      return send(res, route, 400);
    }
    if (route === 'PUT /mdm/checkin' || route === 'PUT /mdm/connect') {
      try {
        verifyMdmSignature(req.headers['mdm-signature'] as string | undefined, body, { trustAnchors: [caPem] });
      } catch {
        return send(res, route, 401);
      }
      if (route === 'PUT /mdm/checkin') {
        let message: CheckinMessage;
        try {
          message = decodeCheckin(body);
        } catch {
          return send(res, route, 400);
        }
        fake.checkins.push(message);
        if (message.kind === 'TokenUpdate' && fake.onEnrolled) fake.queues.set(message.udid, fake.onEnrolled(message.udid));
        return send(res, route, 200);
      }
      let result: CommandResult;
      try {
        result = decodeCommandResult(body);
      } catch {
        return send(res, route, 400);
      }
      if (fake.revoked.has(result.udid)) return send(res, route, 401);
      const queue = fake.queues.get(result.udid) ?? [];
      if (result.status !== 'Idle') {
        fake.results.push(result);
        const index = queue.findIndex((c) => c.CommandUUID === result.commandUuid);
        if (index >= 0) {
          const [command] = queue.splice(index, 1);
          // Deferred: keep it for a later connection, and end this one as many servers do
          if (result.status === 'NotNow') {
            queue.push(command!);
            return send(res, route, 200);
          }
        }
      }
      const next = queue[0];
      return next ? send(res, route, 200, encodeCommand(next), 'application/xml') : send(res, route, 200);
    }
    return send(res, route, 404);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      res.writeHead(500);
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return fake;
}
