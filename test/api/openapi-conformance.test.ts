// The OpenAPI document says what the server does: every operation in it gets real requests
// (a valid one, and derived from the document: unauthenticated, locked out, a viewer's write, a
// missing id, a malformed id, a bad query value, bad bodies of every kind), and every answer's
// status, media type and JSON body must be what the document lists for that operation. A
// refused request must leave the data as it was.
import { X509Certificate } from 'node:crypto';
import type { Server } from 'node:http';
import supertest from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminPassword, rawBody, removeDir, startTestApp, type TestApp } from '../helpers/app.js';
import { TestDevice } from '../helpers/device.js';
import { parsePlist, toXmlPlist, type PlistDict } from '../../src/lib/plist/index.js';
import { buildPkcsReq, selfSignedCertificate } from '../../src/lib/scep/index.js';
import { readCertsOnly } from '../../src/lib/scep/signed-data.js';
import { signCms, verifyCms } from '../../src/lib/pki/cms.js';
import { generateKeyPair } from '../../src/signing/identity.js';
import { dataFingerprint, DocumentChecker, fillPath, type Answer, type Json, type Operation } from '../helpers/openapi.js';
import { buildIpa, rubyMultipart, type Part } from '../helpers/ipa.js';
import { selfSignedPushCertificate } from '../helpers/apns-stand-in.js';

type Who = 'admin' | 'viewer' | 'none' | 'intruder';

interface Call {
  params?: Record<string, string | number>;
  query?: Record<string, string>;
  /** JSON-serialisable value (sent as JSON), or raw text/bytes with `type`. */
  body?: unknown;
  raw?: string | Buffer;
  type?: string;
  headers?: Record<string, string>;
  as?: Who;
}

interface Case {
  /** The valid request(s) of an operation; or a device conversation answering for itself. */
  calls?: () => Call[];
  run?: () => Promise<Answer[]>;
  /** With `run`: the request the derived refusals start from. */
  base?: () => Call;
  /** Destructive cases run after the others (deletes), the head-end import last. */
  phase?: number;
  /** The status the valid requests get (default: the documented success status). */
  expect?: number | number[];
}

const viewerPassword = 'viewer-password-1';
const intruder = 'intruder';

let t: TestApp;
let server: Server;
let checker: DocumentChecker;
let device: TestDevice;
const f: Record<string, Json> = {};
const problems: string[] = [];
let answered = 0;

async function send(op: Operation, call: Call): Promise<Answer> {
  let req = supertest(server)[op.method](fillPath(op.path, call.params ?? {}));
  if (call.query) req = req.query(call.query);
  const who = call.as ?? 'admin';
  if (who === 'admin') req = req.auth('admin', adminPassword);
  if (who === 'viewer') req = req.auth('viewer1', viewerPassword);
  if (who === 'intruder') req = req.auth(intruder, 'not-the-password');
  for (const [k, v] of Object.entries(call.headers ?? {})) req = req.set(k, v);
  if (call.raw !== undefined) req = req.set('content-type', call.type ?? 'application/octet-stream').send(call.raw);
  else if (call.body !== undefined) req = req.set('content-type', call.type ?? 'application/json').send(JSON.stringify(call.body));
  const res = await req.buffer(true).parse(rawBody);
  return { status: res.status, headers: res.headers as Answer['headers'], body: res.body as Buffer };
}

/** Checks an answer against the document; returns its status. */
function conform(op: Operation, answer: Answer, what: string): number {
  answered++;
  for (const p of checker.check(op, answer)) problems.push(`${what}: ${p}`);
  return answer.status;
}

const successStatus = (op: Operation) => Number(Object.keys(op.spec.responses).find((s) => s.startsWith('2')));
const admin = () => supertest(server);
const post = async (url: string, body: unknown) => {
  const res = await admin()
    .post(url)
    .auth('admin', adminPassword)
    .send(body as object);
  expect(res.status, `${url} ${res.text}`).toBe(201);
  return res.body.results;
};

/** A multipart/form-data call (the app store's uploads). */
function multipart(parts: Part[]): Call {
  const { contentType, body } = rubyMultipart(parts);
  return { raw: body, type: contentType };
}
const installerPart: Part = { name: 'installer', filename: 'Conformance.ipa', contentType: 'application/octet-stream', data: buildIpa() };

// One valid request per operation, keyed as the document names it. A route with no case fails the test.
const cases: Record<string, Case> = {
  'GET /api/v2/ping': { calls: () => [{}] },
  'GET /api/v2/admins': { calls: () => [{}, { query: { sortField: 'username', sortOrder: 'desc', limit: '1' } }] },
  'POST /api/v2/admins': { calls: () => [{ body: { username: 'second-admin', password: 'second-password-1', role: 'admin' } }] },
  'GET /api/v2/admins/{id}': { calls: () => [{ params: { id: f.tempAdmin.id } }] },
  'PUT /api/v2/admins/{id}': { calls: () => [{ params: { id: f.tempAdmin.id }, body: { role: 'viewer' } }] },
  'DELETE /api/v2/admins/{id}': { phase: 1, calls: () => [{ params: { id: f.tempAdmin.id } }] },
  'DELETE /api/v2/admins/{id}/lockout': { calls: () => [{ params: { id: f.viewer.id } }] },
  'POST /api/v2/users': { calls: () => [{ body: { userId: 'carol', email: 'carol@example.com', displayName: 'Carol' } }] },
  'GET /api/v2/users': { calls: () => [{}, { query: { search: 'ali' } }] },
  'GET /api/v2/users/{userId}': { calls: () => [{ params: { userId: 'alice' } }] },
  'PUT /api/v2/users/{userId}': { calls: () => [{ params: { userId: 'alice' }, body: { displayName: 'Alice A.' } }] },
  'DELETE /api/v2/users/{userId}': { phase: 1, calls: () => [{ params: { userId: 'bob' } }] },
  'POST /api/v2/devices': { calls: () => [{ body: { platform: 'Android', serialNumber: 'CONF-NEW-1' } }] },
  'GET /api/v2/devices': { calls: () => [{}, { query: { fields: 'common.uuid,common.model', query: 'common.platform = "iOS"' } }] },
  'POST /api/v2/devices/bulk': {
    calls: () => [
      { raw: 'userId,platform,serialNumber\nalice,iOS,CONF-BULK-1\n', type: 'text/csv' },
      { raw: 'userId,platform,serialNumber\nalice,iOS,CONF-BULK-2\n', type: 'text/csv', query: { async: 'true' } },
    ],
    expect: [201, 202],
  },
  'GET /api/v2/devices/bulk/{jobId}': { calls: () => [{ params: { jobId: f.importJob } }] },
  'GET /api/v2/devices/count': { calls: () => [{ query: { query: 'common.platform = "iOS"' } }] },
  'GET /api/v2/devices/search_fields': { calls: () => [{}] },
  'GET /api/v2/devices/appinventory': {
    calls: () => [{ query: { adminDeviceSpaceId: '1', deviceUuids: `${f.device},00000000-0000-4000-8000-000000000000` } }],
  },
  'GET /api/v2/appinventory/devices': {
    calls: (): Call[] => [{ query: { appName: '1Password', platformType: 'iOS' } }, { query: { appId: 'com.example.app' } }],
  },
  'GET /api/v2/devices/{uuid}/details': { calls: () => [{ params: { uuid: f.device } }] },
  'GET /api/v2/devices/{uuid}/labels': { calls: () => [{ params: { uuid: f.device } }] },
  'PUT /api/v2/devices/{uuid}/attributes': {
    calls: () => [{ params: { uuid: f.device }, body: { deviceName: 'Conformance iPad', custom: { team: 'qa' } } }],
  },
  'DELETE /api/v2/devices/{uuid}': { phase: 1, calls: () => [{ params: { uuid: f.spareDevice } }] },
  'POST /api/v2/labels': { calls: () => [{ body: { name: 'iOS filter', static: false, criteria: 'common.platform = "iOS"' } }] },
  'DELETE /api/v2/labels': { phase: 1, calls: () => [{ body: { labelIds: [f.spareLabel.id] } }] },
  'GET /api/v2/labels/label_summary': { calls: () => [{}] },
  'POST /api/v2/labels/preview': { calls: () => [{ body: { criteria: 'common.platform = "iOS"' } }] },
  'GET /api/v2/labels/{id}': { calls: () => [{ params: { id: f.label.id } }] },
  'PUT /api/v2/labels/{id}': {
    calls: () => [
      { params: { id: f.label.id }, body: { description: 'changed' } },
      { params: { id: f.label.id }, body: { ...f.label, description: 'changed again', deviceCount: 7 } },
    ],
  },
  'GET /api/v2/device_spaces/mine': { calls: () => [{}, { as: 'viewer' }] },
  'GET /api/v2/device_spaces': { calls: () => [{}, { query: { adminDeviceSpaceId: '1', excludeDeviceCount: 'true' } }] },
  'GET /api/v2/device_spaces/criteria': { calls: () => [{ query: { adminDeviceSpaceId: '1' } }] },
  'PUT /api/v2/devices/labels/{labelName}/add': {
    calls: () => [{ params: { labelName: f.label.name }, body: { deviceUuids: [f.device] } }],
  },
  'PUT /api/v2/devices/labels/{labelName}/remove': {
    phase: 1,
    calls: () => [{ params: { labelName: f.label.name }, body: { deviceUuids: [f.device] } }],
  },
  'POST /api/v2/configurations/vpn': {
    calls: () => [
      { body: { name: 'second vpn', connectionType: 'IKEV2', server: 'vpn2.example.com' } },
      {
        body: {
          name: 'certificate vpn',
          connectionType: 'ANYCONNECT',
          server: 'vpn3.example.com',
          userAuthentication: 'CERTIFICATE',
          certificateEnrollmentId: f.certEnrollment.id,
        },
      },
    ],
  },
  'POST /api/v2/configurations/certificate-enrollment': {
    calls: () => [{ body: { name: 'second identity', method: 'LOCAL', subject: 'CN=$DEVICE_UUID$' } }],
  },
  'GET /api/v2/configurations/certificate-enrollment': { calls: () => [{}] },
  'GET /api/v2/configurations/certificate-enrollment/{id}': { calls: () => [{ params: { id: f.certEnrollment.id } }] },
  'PUT /api/v2/configurations/certificate-enrollment/{id}': {
    calls: () => [{ params: { id: f.certEnrollment.id }, body: { description: 'changed' } }],
  },
  'DELETE /api/v2/configurations/certificate-enrollment/{id}': { phase: 1, calls: () => [{ params: { id: f.spareCertEnrollment.id } }] },
  'GET /api/v2/devices/{uuid}/certificates': { calls: () => [{ params: { uuid: f.device } }] },
  'GET /api/v2/configurations/vpn': { calls: () => [{}] },
  'GET /api/v2/configurations/vpn/{id}': { calls: () => [{ params: { id: f.vpn.id } }] },
  'PUT /api/v2/configurations/vpn/{id}': { calls: () => [{ params: { id: f.vpn.id }, body: { safariDomains: ['example.com'] } }] },
  'DELETE /api/v2/configurations/vpn/{id}': { phase: 1, calls: () => [{ params: { id: f.spareVpn.id } }] },
  'PUT /api/v2/configurations/vpn/{id}/labels/{labelId}': { calls: () => [{ params: { id: f.vpn.id, labelId: f.label.id } }] },
  'DELETE /api/v2/configurations/vpn/{id}/labels/{labelId}': { phase: 1, calls: () => [{ params: { id: f.vpn.id, labelId: f.label.id } }] },
  'POST /api/v2/appstore/apps': { calls: () => [{ body: { name: 'Second', bundleId: 'com.example.second' } }] },
  'GET /api/v2/appstore/apps': { calls: () => [{}, { query: { platform: 'iOS' } }] },
  'GET /api/v2/appstore/apps/{id}': { calls: () => [{ params: { id: f.app.id } }] },
  'PUT /api/v2/appstore/apps/{id}': { calls: () => [{ params: { id: f.app.id }, body: { version: '2.0' } }] },
  'DELETE /api/v2/appstore/apps/{id}': { phase: 1, calls: () => [{ params: { id: f.spareApp.id } }] },
  'PUT /api/v2/appstore/apps/{appId}/labels/{labelId}': { calls: () => [{ params: { appId: f.app.id, labelId: f.label.id } }] },
  'DELETE /api/v2/appstore/apps/{appId}/labels/{labelId}': {
    phase: 1,
    calls: () => [{ params: { appId: f.app.id, labelId: f.label.id } }],
  },
  'POST /api/v2/appstore/inhouse': { calls: () => [multipart([installerPart])] },
  'POST /api/v2/appstore/apps/{id}': {
    calls: () => [{ params: { id: f.app.id }, ...multipart([{ name: 'appData', value: '{"description":"conformance"}' }]) }],
  },
  'POST /api/v2/appstore/apps/{appId}/message': {
    calls: () => [{ params: { appId: f.app.id }, body: { installIncluded: true, updateIncluded: true, pushApp: true } }],
  },
  'GET /api/v2/authorized/users': { calls: () => [{}, { query: { query: 'ali' } }] },
  'GET /api/v2/admins/ldap_entities': {
    calls: () => [{ query: { type: 'user', query: 'ali' } }, { query: { type: 'group', query: 'Sales' } }],
  },
  'GET /api/v2/devices/{uuid}/policy': { calls: () => [{ params: { uuid: f.device } }] },
  'GET /api/v2/devices/{uuid}/profiles/vpn': {
    base: () => ({ params: { uuid: f.device } }),
    run: async () => {
      const op = checker.operation('get', '/api/v2/devices/{uuid}/profiles/vpn');
      const signed = await send(op, { params: { uuid: f.device } });
      const plain = await send(op, { params: { uuid: f.device }, query: { signed: 'false' } });
      const again = await send(op, { params: { uuid: f.device }, headers: { 'if-none-match': String(signed.headers.etag) } });
      expect([signed.status, plain.status, again.status]).toEqual([200, 200, 304]);
      return [signed, plain, again];
    },
  },
  'PUT /api/v2/apns/certificate': {
    calls: () => [{ body: { certificate: f.pushCertificate.certificatePem, privateKey: f.pushCertificate.keyPem, force: true } }],
  },
  'GET /api/v2/apns/certificate': { phase: 1, calls: () => [{}] },
  'DELETE /api/v2/apns/certificate': { phase: 1, calls: () => [{}] },
  'GET /api/v2/signing/ca.pem': { calls: () => [{ as: 'none' }] },
  'GET /api/v2/signing/ca.der': { calls: () => [{ as: 'none' }] },
  'GET /api/v2/signing/trust.mobileconfig': { calls: () => [{ as: 'none' }] },
  'POST /api/v2/enrollments': { calls: () => [{ body: { userId: 'alice' } }] },
  'GET /api/v2/enrollments': { calls: () => [{}] },
  'GET /api/v2/enrollments/{id}/profile': {
    calls: () => [{ params: { id: f.directInvitations[0].id }, query: { signed: 'false' } }, { params: { id: f.directInvitations[1].id } }],
  },
  'GET /api/v2/scep/crl': { calls: () => [{ as: 'none' }, { as: 'none', query: { format: 'pem' } }] },
  'POST /api/v2/scep/challenges': { calls: () => [{ body: { ttlMinutes: 5 } }] },
  'GET /api/v2/scep/certificates': { calls: () => [{}, { query: { revoked: 'false', sortField: 'notAfter' } }] },
  'POST /api/v2/scep/certificates/{serial}/revoke': { phase: 1, calls: () => [{ params: { serial: f.certificateSerial } }] },
  'GET /api/v2/devices/{uuid}/commands': {
    calls: () => [{ params: { uuid: f.device } }, { params: { uuid: f.device }, query: { status: 'Queued' } }],
  },
  'POST /api/v2/devices/{uuid}/commands': {
    calls: () => [{ params: { uuid: f.enrolled }, body: { RequestType: 'DeviceInformation', Queries: ['Model'] } }],
  },
  'GET /api/v2/devices/{uuid}/pushes': { calls: () => [{ params: { uuid: f.enrolled } }] },
  'DELETE /api/v2/devices/{uuid}/commands/{commandUuid}': {
    phase: 1,
    base: () => ({ params: { uuid: f.enrolled, commandUuid: f.command } }),
    run: async () => {
      const op = checker.operation('delete', '/api/v2/devices/{uuid}/commands/{commandUuid}');
      const queued = (await post(`/api/v2/devices/${f.enrolled}/commands`, { RequestType: 'ProfileList' })).commandUuid;
      const cancelled = await send(op, { params: { uuid: f.enrolled, commandUuid: queued } });
      const sent = await send(op, { params: { uuid: f.enrolled, commandUuid: f.command } }); // delivered to the device by now
      expect([cancelled.status, sent.status]).toEqual([200, 409]);
      return [cancelled, sent];
    },
  },
  'PUT /api/v2/devices/wipe': { phase: 1, calls: () => [{ body: { deviceUuids: [f.device] } }] },
  'PUT /api/v2/devices/retire': { phase: 1, calls: () => [{ body: { deviceUuids: [f.device] } }] },
  'PUT /api/v2/devices/wakeup': { calls: () => [{ body: { deviceUuids: [f.enrolled] } }] },
  'POST /api/v2/devices/action': {
    calls: (): Call[] => [
      { query: { actionType: 'WAKEUP' }, body: { deviceUuids: [f.enrolled] } },
      { query: { actionType: 'WAKE_UP', deviceUuids: f.enrolled } },
    ],
  },
  'GET /api/v2/devices/action_types': { calls: () => [{}] },
  'POST /api/v2/anyconnect/perapp-policies': {
    calls: () => [{ body: { name: 'P_second', rules: [{ platform: 'Android', appId: 'com.example.android' }] } }],
  },
  'GET /api/v2/anyconnect/perapp-policies': { calls: () => [{}] },
  'POST /api/v2/anyconnect/perapp-policies/decode': { calls: () => [{ body: { blob: f.blob } }] },
  'GET /api/v2/anyconnect/perapp-policies/{id}': { calls: () => [{ params: { id: f.perapp.id } }] },
  'PUT /api/v2/anyconnect/perapp-policies/{id}': { calls: () => [{ params: { id: f.perapp.id }, body: { description: 'changed' } }] },
  'DELETE /api/v2/anyconnect/perapp-policies/{id}': { phase: 1, calls: () => [{ params: { id: f.sparePerapp.id } }] },
  'GET /api/v2/anyconnect/perapp-policies/{id}/blob': { calls: () => [{ params: { id: f.perapp.id }, query: { compression: 'gzip' } }] },
  'POST /api/v2/anyconnect/group-policies': { calls: () => [{ body: { name: 'GP_second', perapp: 'none' } }] },
  'GET /api/v2/anyconnect/group-policies': { calls: () => [{}] },
  'GET /api/v2/anyconnect/group-policies/{id}': { calls: () => [{ params: { id: f.group.id } }] },
  'PUT /api/v2/anyconnect/group-policies/{id}': { calls: () => [{ params: { id: f.group.id }, body: { perapp: { policy: 'P_main' } } }] },
  'DELETE /api/v2/anyconnect/group-policies/{id}': { phase: 1, calls: () => [{ params: { id: f.spareGroup.id } }] },
  'POST /api/v2/anyconnect/tunnel-groups': {
    calls: () => [
      { body: { name: 'TG_second', defaultGroupPolicy: 'GP_main' } },
      { body: { name: 'TG_cert', authentication: 'certificate', usernameFromCertificate: 'CN OU' } },
    ],
  },
  'GET /api/v2/anyconnect/tunnel-groups': { calls: () => [{}] },
  'GET /api/v2/anyconnect/tunnel-groups/{id}': { calls: () => [{ params: { id: f.tunnel.id } }] },
  'PUT /api/v2/anyconnect/tunnel-groups/{id}': { calls: () => [{ params: { id: f.tunnel.id }, body: { defaultGroupPolicy: 'GP_main' } }] },
  'DELETE /api/v2/anyconnect/tunnel-groups/{id}': { phase: 1, calls: () => [{ params: { id: f.spareTunnel.id } }] },
  'POST /api/v2/anyconnect/dap-records': {
    calls: () => [
      {
        body: {
          name: 'DAP_second',
          priority: 5,
          endpointCriteria: [{ attribute: 'endpoint.anyconnect.platform', operator: 'EQ', value: 'apple-ios' }],
        },
      },
    ],
  },
  'GET /api/v2/anyconnect/dap-records': { calls: () => [{}] },
  'GET /api/v2/anyconnect/dap-records/{id}': { calls: () => [{ params: { id: f.dap.id } }] },
  'PUT /api/v2/anyconnect/dap-records/{id}': { calls: () => [{ params: { id: f.dap.id }, body: { perapp: { policy: 'P_main' } } }] },
  'DELETE /api/v2/anyconnect/dap-records/{id}': { phase: 1, calls: () => [{ params: { id: f.spareDap.id } }] },
  'GET /api/v2/anyconnect/settings': { calls: () => [{}] },
  'PUT /api/v2/anyconnect/settings': {
    calls: () => [
      { body: { dapOrder: 'asa' } },
      { body: { trustpoints: [{ name: 'MOCKIRON', caCertificate: null, revocationCheck: 'crl none' }] } },
    ],
  },
  'GET /api/v2/anyconnect/headend': { calls: () => [{}] },
  'GET /api/v2/anyconnect/asa-config': { calls: () => [{}] },
  'POST /api/v2/anyconnect/asa-config/parse': { calls: () => [{ raw: f.asaConfig, type: 'text/plain' }, { body: { text: f.asaConfig } }] },
  'POST /api/v2/anyconnect/asa-config/import': { phase: 2, calls: () => [{ raw: f.asaConfig, type: 'text/plain' }] },
  'POST /api/v2/anyconnect/resolve': { calls: () => [{ body: { tunnelGroup: 'TG_main', endpoint: { platform: 'apple-ios' } } }] },
  'POST /api/v2/anyconnect/simulate': {
    calls: () => [
      {
        body: {
          tunnelGroup: 'TG_main',
          platform: 'iOS',
          app: { appId: 'com.example.app' },
          mdmBinding: { managed: true, vpnUuid: f.vpn.vpnUuid },
        },
      },
      // certificate authentication refused (no certificate), and a certificate of our CA on an aaa tunnel group
      { body: { tunnelGroup: 'TG_cert', platform: 'iOS', app: { appId: 'com.example.app' } } },
      {
        body: {
          tunnelGroup: 'TG_main',
          platform: 'iOS',
          app: { appId: 'com.example.app' },
          clientCertificate: t.services.signing.ca!.issueKeyAndCertificate({ subject: { commonName: 'conformance' }, profile: 'device' })
            .pem,
        },
      },
    ],
  },
  'GET /api/v2/audit': { calls: () => [{}, { query: { objectType: 'user', sortOrder: 'asc' } }] },
  'PUT /api/v1/dm/register': { calls: () => [{ query: { userId: 'alice', platform: 'I' } }] },
  'GET /status/status.html': { calls: () => [{ as: 'none' }, { as: 'admin' }] },
  // Core v1 (src/core-v1). MAC and phone lookups search common.wifi_mac_address and
  // common.current_phone_number: the first MAC case gives the two spare devices theirs.
  'GET /api/v1/dm/devices': {
    calls: (): Call[] => [
      { query: { status: 'VERIFICATION_PENDING' } },
      { query: { status: 'verification_pending', offset: '0', limit: '1' } },
    ],
  },
  'GET /api/v1/dm/devices/{uuid}': { calls: () => [{ params: { uuid: f.device } }] },
  'GET /api/v1/dm/devices/mac/{mac}': {
    base: () => ({ params: { mac: 'a4:83:e7:00:00:99' } }),
    run: async () => {
      for (const [uuid, wifiMac] of [
        [f.device, 'a4:83:e7:00:00:0c'],
        [f.spareDevice, 'A4-83-E7-00-00-0D'],
      ] as const) {
        const set = await admin()
          .put(`/api/v2/devices/${uuid}/attributes`)
          .auth('admin', adminPassword)
          .send({ wifiMac, phoneNumber: '+1 415 555 0199' });
        expect(set.status, set.text).toBe(200);
      }
      const op = checker.operation('get', '/api/v1/dm/devices/mac/{mac}');
      const answers = [await send(op, { params: { mac: 'A483E700000C' } }), await send(op, { params: { mac: 'a4:83:e7:00:00:99' } })];
      expect(answers.map((a) => a.status)).toEqual([200, 404]);
      return answers;
    },
  },
  'GET /api/v1/dm/phones/{phone}': {
    expect: [200, 404],
    calls: () => [{ params: { phone: '+1 415 555 0199' } }, { params: { phone: '4155550000' } }],
  },
  'GET /api/v1/dm/users/{userId}': { calls: () => [{ params: { userId: 'alice' } }] },
  'GET /api/v1/dm/labels': { calls: () => [{}] },
  'GET /api/v1/dm/labels/devices/{uuid}': { calls: () => [{ params: { uuid: f.device } }] },
  'GET /api/v1/dm/labels/{label}': { calls: () => [{ params: { label: 'All-Smartphones' } }] },
  'PUT /api/v1/dm/labels/{labels}/{uuids}': {
    calls: () => [{ params: { labels: f.label.name, uuids: f.device }, query: { action: 'apply' } }],
  },
  'PUT /api/v1/dm/devices/lock/{uuid}': { calls: () => [{ params: { uuid: f.device }, query: { Reason: 'conformance' } }] },
  'PUT /api/v1/dm/devices/wipe/{uuid}': { calls: () => [{ params: { uuid: f.spareDevice }, query: { reason: 'conformance' } }] },
  'PUT /api/v1/dm/devices/retire/{uuid}': { calls: () => [{ params: { uuid: f.spareDevice } }] },
  'GET /api/v1/dm/devices/unlock/{uuid}': { calls: () => [{ params: { uuid: f.device } }] },
  'PUT /api/v1/dm/devices/lock/mac/{mac}': { calls: () => [{ params: { mac: 'a4:83:e7:00:00:0c' } }] },
  'PUT /api/v1/dm/devices/wipe/mac/{mac}': { calls: () => [{ params: { mac: 'a4-83-e7-00-00-0d' } }] },
  'PUT /api/v1/dm/devices/retire/mac/{mac}': { calls: () => [{ params: { mac: 'A483E700000D' } }] },
  'GET /api/v1/dm/devices/unlock/mac/{mac}': { calls: () => [{ params: { mac: 'a4:83:e7:00:00:0c' } }] },
  'POST /api/v1/dm/bulk/sendmessage': {
    calls: () => [{ query: { mode: 'email', message: 'conformance', subject: 'hi', deviceUuid: f.device } }],
  },
  'GET /api/v1/sm/users/{userId}': { calls: () => [{ params: { userId: 'alice' } }] },
  'GET /scep': {
    expect: [200, 400],
    calls: (): Call[] => [
      { as: 'none', query: { operation: 'GetCACaps' } },
      { as: 'none', query: { operation: 'GetCACert' } },
      { as: 'none', query: { operation: 'PKIOperation', message: 'AAAA' } },
      { as: 'none', query: { operation: 'Nonsense' } },
    ],
  },
  'POST /scep': {
    base: () => ({ as: 'none', query: { operation: 'PKIOperation' } }),
    run: async () => {
      const op = checker.operation('post', '/scep');
      const caCert = await send(checker.operation('get', '/scep'), { as: 'none', query: { operation: 'GetCACert' } });
      const ca = String(caCert.headers['content-type']).startsWith('application/x-x509-ca-ra-cert')
        ? readCertsOnly(caCert.body).find((c) => c.ca)!
        : new X509Certificate(caCert.body);
      const { privateKey } = generateKeyPair('rsa');
      // A well-formed request with a wrong challenge: SCEP answers 200 with a CertRep saying FAILURE.
      const request = buildPkcsReq({
        caCert: ca,
        privateKey,
        subject: { commonName: 'conformance' },
        challengePassword: 'not-a-challenge',
      });
      const certRep = await send(op, {
        as: 'none',
        query: { operation: 'PKIOperation' },
        raw: request.der,
        type: 'application/x-pki-message',
      });
      const garbage = await send(op, {
        as: 'none',
        query: { operation: 'PKIOperation' },
        raw: Buffer.from('not a PKIMessage'),
        type: 'application/x-pki-message',
      });
      expect([certRep.status, garbage.status]).toEqual([200, 400]);
      return [certRep, garbage];
    },
  },
  'GET /ota/enroll': {
    expect: [200, 404],
    calls: () => [
      { as: 'none', query: { token: f.invitation.token } },
      { as: 'none', query: { token: 'AAAAAAAAAAAAAAAA' } },
    ],
  },
  'GET /mdm/enroll': {
    expect: [200, 404],
    calls: (): Call[] => [
      { as: 'none', query: { token: f.directInvitations[2].token, signed: 'true' } },
      { as: 'none', query: { token: f.directInvitations[3].token, signed: 'false' } },
      { as: 'none', query: { token: 'AAAAAAAAAAAAAAAA' } },
    ],
  },
  'POST /mdm/enroll': {
    base: () => ({ as: 'none' }),
    run: async () => {
      const op = checker.operation('post', '/mdm/enroll');
      const other = new TestDevice(t.app);
      const { privateKey } = generateKeyPair('rsa');
      const signer = { privateKey, certificate: selfSignedCertificate(privateKey, { commonName: 'Apple iPhone Device' }) };
      const machineInfo = signCms(
        Buffer.from(toXmlPlist({ UDID: other.udid, SERIAL: other.serial, PRODUCT: 'iPad8,1', VERSION: '21A329' })),
        signer,
      );
      const send_ = (raw: Buffer) => send(op, { as: 'none', raw, type: 'application/pkcs7-signature' });
      const unknown = await send_(machineInfo);
      await post('/api/v2/devices', { platform: 'iOS', serialNumber: other.serial });
      const registered = await send_(machineInfo);
      const garbage = await send_(Buffer.from('not cms'));
      const empty = await send(op, { as: 'none' });
      expect([unknown.status, registered.status, garbage.status, empty.status]).toEqual([403, 200, 400, 400]);
      return [unknown, registered, garbage, empty];
    },
  },
  'POST /ota/profile': {
    base: () => ({ as: 'none' }),
    run: async () => {
      const op = checker.operation('post', '/ota/profile');
      const phase1 = await send(checker.operation('get', '/ota/enroll'), {
        as: 'none',
        query: { token: new URL((await post('/api/v2/enrollments', { userId: 'alice' })).url).searchParams.get('token')! },
      });
      const service = parsePlist(verifyCms(phase1.body, { trustAnchors: [device.caPem] }).content) as PlistDict;
      const { Challenge, URL: url } = service.PayloadContent as PlistDict;
      const other = new TestDevice(t.app);
      const attributes = toXmlPlist({
        UDID: other.udid,
        VERSION: '9.3.1',
        PRODUCT: 'iPad4,1',
        SERIAL: other.serial,
        CHALLENGE: Challenge as string,
      });
      const profile = asAnswer(await other.postOta(new URL(url as string).pathname, Buffer.from(attributes)));
      const replayed = asAnswer(await other.postOta(new URL(url as string).pathname, Buffer.from(attributes)));
      const garbage = await send(op, { as: 'none', raw: Buffer.from('not cms'), type: 'application/pkcs7-signature' });
      const empty = await send(op, { as: 'none' });
      expect([profile.status, replayed.status, garbage.status, empty.status]).toEqual([200, 403, 400, 400]);
      return [profile, replayed, garbage, empty];
    },
  },
  'PUT /mdm/checkin': {
    run: async () => {
      const answers = [
        await device.tokenUpdate(),
        await device.checkin(
          {
            MessageType: 'Authenticate',
            Topic: 'com.apple.mgmt.External.mockiron',
            SerialNumber: device.serial,
            ProductName: device.model,
            OSVersion: device.osVersion,
          },
          { tamper: true },
        ),
      ];
      expect(answers.map((a) => a.status)).toEqual([200, 401]);
      return answers.map(asAnswer);
    },
  },
  'PUT /mdm/connect': {
    run: async () => {
      const a = await device.put('/mdm/connect', { UDID: device.udid, Status: 'Idle' });
      expect(a.status).toBe(200);
      return [asAnswer(a)];
    },
  },
  'PUT /mdm': {
    run: async () => {
      const a = await device.put('/mdm', { UDID: device.udid, Status: 'Idle' });
      const b = await device.put(
        '/mdm',
        { UDID: device.udid, MessageType: 'Authenticate', Topic: 'com.apple.mgmt.External.mockiron' },
        { contentType: 'application/x-apple-aspen-mdm-checkin' },
      );
      return [asAnswer(a), asAnswer(b)];
    },
  },
};

function asAnswer(res: { status: number; headers: Record<string, unknown>; body: unknown }): Answer {
  return {
    status: res.status,
    headers: res.headers as Answer['headers'],
    body: Buffer.isBuffer(res.body) ? res.body : Buffer.from(String(res.body ?? '')),
  };
}

/** A value of the parameter's documented shape that names nothing stored. */
function missingValue(schema: Json): string {
  if (schema.type === 'integer' || schema.type === 'number') return '2147483000';
  const re = schema.pattern ? new RegExp(schema.pattern) : undefined;
  return ['0badc0de-0000-4000-8000-00000000dead', 'DEADBEEF0001', 'no-such-thing'].find((v) => !re || re.test(v)) ?? 'no-such-thing';
}

/** A value the parameter's schema refuses, or undefined when it takes any string. */
function invalidValue(schema: Json): string | undefined {
  if (schema.type === 'integer' || schema.type === 'number') return 'not-a-number';
  if (schema.enum) return 'no-such-choice';
  if (schema.pattern) return '!! <bad> !!';
  if (schema.anyOf || schema.oneOf) return undefined;
  if (typeof schema.maxLength === 'number' && schema.maxLength < 5000) return 'x'.repeat(schema.maxLength + 1);
  return undefined;
}

const paramsOf = (op: Operation, where: 'path' | 'query'): Json[] => (op.spec.parameters ?? []).filter((p: Json) => p.in === where);
const acceptsJson = (op: Operation) => !!op.spec.requestBody?.content?.['application/json'];
const acceptsMultipart = (op: Operation) => !!op.spec.requestBody?.content?.['multipart/form-data'];
const isAdminOp = (op: Operation) => (op.spec.security ?? []).length > 0;
const isDeviceOp = (op: Operation) => !op.path.startsWith('/api/');

/** Requests derived from the document and a valid request: each must be refused with `expect`. */
function refusals(op: Operation, valid: Call): Array<{ name: string; call: Call; expect: number }> {
  const out: Array<{ name: string; call: Call; expect: number }> = [];
  if (isAdminOp(op)) {
    out.push({ name: 'unauthenticated', call: { ...valid, as: 'none' }, expect: 401 });
    out.push({ name: 'locked out', call: { ...valid, as: 'intruder' }, expect: 429 });
    // Writes are the admin role's; a read by POST (a preview, a parse) is documented without 403.
    if (op.spec.responses['403']) out.push({ name: "a viewer's write", call: { ...valid, as: 'viewer' }, expect: 403 });
  }
  for (const p of paramsOf(op, 'path')) {
    out.push({ name: `missing ${p.name}`, call: { ...valid, params: { ...valid.params, [p.name]: missingValue(p.schema) } }, expect: 404 });
    const bad = invalidValue(p.schema);
    if (bad !== undefined)
      out.push({ name: `malformed ${p.name}`, call: { ...valid, params: { ...valid.params, [p.name]: bad } }, expect: 400 });
  }
  for (const p of paramsOf(op, 'query')) {
    const bad = invalidValue(p.schema);
    if (bad !== undefined && !isDeviceOp(op))
      out.push({ name: `bad query ${p.name}`, call: { ...valid, query: { ...valid.query, [p.name]: bad } }, expect: 400 });
  }
  if (op.spec.requestBody && !isDeviceOp(op)) {
    const strip = { ...valid, body: undefined, raw: undefined };
    if (acceptsJson(op)) {
      out.push({ name: 'malformed JSON', call: { ...strip, raw: '{"name": "x",', type: 'application/json' }, expect: 400 });
      out.push({ name: 'a number for a body', call: { ...strip, raw: '42', type: 'application/json' }, expect: 400 });
      out.push({
        name: 'prototype keys',
        call: { ...strip, raw: '{"__proto__":{"role":"admin"},"constructor":{"prototype":{}}}', type: 'application/json' },
        expect: 400,
      });
      out.push({
        name: 'non-UTF-8 JSON',
        call: { ...strip, raw: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), type: 'application/json' },
        expect: 400,
      });
    }
    out.push({
      name: 'too large',
      call: acceptsMultipart(op)
        ? // A text part far over any part's bound (each multipart route takes adminDeviceSpaceId).
          { ...strip, ...multipart([{ name: 'adminDeviceSpaceId', value: 'x'.repeat(4200 * 1024) }]) }
        : {
            ...strip,
            raw: `"${'x'.repeat(acceptsJson(op) ? 1100 * 1024 : 4200 * 1024)}"`,
            type: acceptsJson(op) ? 'application/json' : 'text/csv',
          },
      expect: 413,
    });
    out.push({ name: 'another media type', call: { ...strip, raw: '<x/>', type: 'application/xml' }, expect: 415 });
    out.push({ name: 'no body', call: strip, expect: 400 });
  }
  if (isDeviceOp(op))
    out.push({
      name: 'too large',
      call: { as: 'none', query: valid.query, raw: Buffer.alloc(3 * 1024 * 1024, 0x41), type: 'application/octet-stream' },
      expect: 413,
    });
  return out;
}

beforeAll(async () => {
  // Once the push certificate is uploaded, pushes go to APNs: here a closed local port, never Apple.
  t = await startTestApp({ env: { MOCKIRON_APNS_URL: 'https://127.0.0.1:1' } });
  server = t.app.listen(0);
  checker = new DocumentChecker((await admin().get('/api/v2/openapi.json')).body);
  f.viewer = await post('/api/v2/admins', { username: 'viewer1', password: viewerPassword, role: 'viewer' });
  f.tempAdmin = await post('/api/v2/admins', { username: 'temp-admin', password: 'temp-password-1', role: 'admin' });
  await post('/api/v2/users', { userId: 'alice', email: 'alice@example.com' });
  await post('/api/v2/users', { userId: 'bob' });
  f.device = (
    await post('/api/v2/devices', { platform: 'iOS', serialNumber: 'CONF-1', model: 'iPad4,1', osVersion: '9.3.1', userId: 'alice' })
  )['common.uuid'];
  f.pushCertificate = selfSignedPushCertificate('com.apple.mgmt.External.mockiron') as unknown as Json;
  f.spareDevice = (await post('/api/v2/devices', { platform: 'Android', serialNumber: 'CONF-2' }))['common.uuid'];
  f.label = await post('/api/v2/labels', { name: 'Conformance', static: true });
  f.spareLabel = await post('/api/v2/labels', { name: 'Spare', static: true });
  f.importJob = (
    await admin()
      .post('/api/v2/devices/bulk?async=true')
      .auth('admin', adminPassword)
      .set('content-type', 'text/csv')
      .send('platform,serialNumber\nA,CONF-JOB-1\n')
  ).body.results.id;
  f.vpn = await post('/api/v2/configurations/vpn', {
    name: 'main vpn',
    connectionType: 'ANYCONNECT',
    server: 'asa.example.com',
    perApp: true,
  });
  f.spareVpn = await post('/api/v2/configurations/vpn', { name: 'spare vpn', connectionType: 'IKEV2', server: 'vpn.example.com' });
  f.certEnrollment = await post('/api/v2/configurations/certificate-enrollment', {
    name: 'main identity',
    method: 'SCEP',
    subject: 'CN=$USERID$,O=Example',
    subjectAltNames: [{ type: 'rfc822Name', value: '$EMAIL$' }],
  });
  f.spareCertEnrollment = await post('/api/v2/configurations/certificate-enrollment', {
    name: 'spare identity',
    method: 'LOCAL',
    subject: 'CN=x',
  });
  f.app = await post('/api/v2/appstore/apps', { name: 'Example', bundleId: 'com.example.app' });
  f.spareApp = await post('/api/v2/appstore/apps', { name: 'Spare', bundleId: 'com.example.spare' });
  const ac = '/api/v2/anyconnect';
  f.perapp = await post(`${ac}/perapp-policies`, { name: 'P_main', rules: [{ platform: 'iOS', appId: 'com.example.app' }] });
  f.sparePerapp = await post(`${ac}/perapp-policies`, { name: 'P_spare', rules: [] });
  f.group = await post(`${ac}/group-policies`, { name: 'GP_main', perapp: { policy: 'P_main' } });
  f.spareGroup = await post(`${ac}/group-policies`, { name: 'GP_spare' });
  f.tunnel = await post(`${ac}/tunnel-groups`, { name: 'TG_main', defaultGroupPolicy: 'GP_main' });
  f.spareTunnel = await post(`${ac}/tunnel-groups`, { name: 'TG_spare' });
  f.dap = await post(`${ac}/dap-records`, { name: 'DAP_main', priority: 10 });
  f.spareDap = await post(`${ac}/dap-records`, { name: 'DAP_spare' });
  f.blob = (await admin().get(`${ac}/perapp-policies/${f.perapp.id}/blob`).auth('admin', adminPassword)).body.results.blob;
  f.asaConfig = (await admin().get(`${ac}/asa-config`).auth('admin', adminPassword)).text;
  // A real enrolled device (OTA, SCEP) for the device protocol and the certificate operations.
  f.invitation = await post('/api/v2/enrollments', { userId: 'alice' });
  f.directInvitations = [];
  for (let i = 0; i < 4; i++) f.directInvitations.push(await post('/api/v2/enrollments', { userId: 'alice' }));
  device = new TestDevice(t.app);
  await device.enroll((await post('/api/v2/enrollments', { userId: 'alice' })).url);
  expect((await device.authenticate()).status).toBe(200);
  const found = await admin()
    .get('/api/v2/devices')
    .auth('admin', adminPassword)
    .query({ query: `"ios.iPhone UDID" = "${device.udid}"`, fields: 'common.uuid' });
  f.enrolled = found.body.results[0]['common.uuid'];
  f.certificateSerial = (await admin().get('/api/v2/scep/certificates').auth('admin', adminPassword)).body.results[0].serialNumber;
  f.command = (await post(`/api/v2/devices/${f.enrolled}/commands`, { RequestType: 'SecurityInfo' })).commandUuid ?? undefined;
  if (!f.command) {
    const cmds = await admin().get(`/api/v2/devices/${f.enrolled}/commands`).auth('admin', adminPassword).query({ status: 'Queued' });
    f.command = cmds.body.results[0].commandUuid ?? cmds.body.results[0].uuid;
  }
  await lockIntruderOut();
}, 120_000);

/** Failed logins (unknown user, wrong password) until the answer is 429; again when a lockout expired. */
async function lockIntruderOut(): Promise<void> {
  const ping = checker.operation('get', '/api/v2/ping');
  let status = 0;
  for (let i = 0; i < 10 && status !== 429; i++) status = conform(ping, await send(ping, { as: 'intruder' }), 'lockout');
  expect(status).toBe(429);
}

afterAll(async () => {
  server?.close();
  await t?.close();
  removeDir(t.dataDir);
});

describe('the OpenAPI document', () => {
  it('names the error envelope as a component and refers to it for every error status', () => {
    expect(checker.doc.components.schemas.ErrorEnvelope.required).toContain('messages');
    for (const op of checker.operations) {
      for (const [status, response] of Object.entries<Json>(op.spec.responses)) {
        if (Number(status) >= 400)
          expect(response.content['application/json'].schema, `${op.key} ${status}`).toEqual({
            $ref: '#/components/schemas/ErrorEnvelope',
          });
      }
    }
  });

  it('has a case for every operation, and no case for an operation it lacks', () => {
    const documented = checker.operations.map((o) => o.key).sort();
    expect(Object.keys(cases).sort()).toEqual(documented);
  });

  it('describes every answer of every operation: valid requests and refusals derived from the document', { timeout: 240_000 }, async () => {
    const order = checker.operations.map((op) => ({ op, c: cases[op.key]! })).sort((a, b) => (a.c.phase ?? 0) - (b.c.phase ?? 0));
    const statuses = new Map<string, Set<number>>();
    const seen = (op: Operation, s: number) => statuses.set(op.key, (statuses.get(op.key) ?? new Set()).add(s));
    for (const { op, c } of order) {
      const valid = c.calls?.() ?? [];
      // Refusals first, while the valid request's objects still exist.
      for (const { name, call, expect: want } of refusals(op, valid[0] ?? c.base?.() ?? {})) {
        if (call.as === 'intruder') await lockIntruderOut();
        const before = await dataFingerprint(t.services.db);
        const answer = await send(op, call);
        seen(op, conform(op, answer, name));
        if (answer.status !== want)
          problems.push(`${op.key} ${name}: expected ${want}, got ${answer.status} ${answer.body.toString().slice(0, 200)}`);
        if ((await dataFingerprint(t.services.db)) !== before) problems.push(`${op.key} ${name} changed the data`);
      }
      const answers = c.run ? await c.run() : await Promise.all(valid.map((call) => send(op, call)));
      const want = c.expect === undefined ? [successStatus(op)] : [c.expect].flat();
      for (const [i, answer] of answers.entries()) {
        seen(op, conform(op, answer, `valid #${i}`));
        if (!c.run && !want.includes(answer.status))
          problems.push(`${op.key} valid #${i}: expected ${want.join('|')}, got ${answer.status} ${answer.body.toString().slice(0, 300)}`);
      }
    }
    expect(problems).toEqual([]);
    // Every operation was tried, and every documented success status was seen at least once.
    for (const op of checker.operations) expect([...(statuses.get(op.key) ?? [])], op.key).toContain(successStatus(op));
    expect(answered).toBeGreaterThan(checker.operations.length * 3);
  });
});
