// `mockiron serve` and single DES: the real binary, its real log on stdout. Without
// --scep-allow-des a PKCSReq enveloped with DES-CBC is answered with a CertRep FAILURE badAlg and
// exactly one log line naming the algorithm and the setting; restarted with the flag, the same
// kind of request gets a certificate, in a CertRep that is DES too.
// Sources: mozilla-services/pkcs7 encrypt.go (Go's default content encryption is DES-CBC) and
// micromdm/scep scep/scep.go NewCSRRequest, which envelopes with it: the client of issue #16;
// RFC 8894 §3.2.1.4 (failInfo badAlg = 0: "unrecognized or unsupported algorithm").
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { buildPkcsReq, parseCertRep } from '../../src/lib/scep/index.js';
import { readCertsOnly } from '../../src/lib/scep/signed-data.js';
import { generateKeyPair } from '../../src/signing/identity.js';
import { adminPassword } from '../helpers/admin-password.js';
import { spawnServe } from '../helpers/serve.js';

const authorization = `Basic ${Buffer.from(`admin:${adminPassword}`).toString('base64')}`;

const serve = (dataDir: string, flags: string[]) =>
  spawnServe(dataDir, { flags, env: { MOCKIRON_ADMIN_PASSWORD: adminPassword, MOCKIRON_SCEP_ALLOW_DES: '' } });

/** A DES-enveloped PKCSReq to the RA that GetCACert serves, with a fresh challenge from the admin API. */
async function desRequest(url: string) {
  const caCerts = readCertsOnly(Buffer.from(await (await fetch(`${url}/scep?operation=GetCACert`)).arrayBuffer()));
  const caCert = caCerts.find((c) => c.ca)!;
  const raCert = caCerts.find((c) => !c.ca)!;
  const minted = await fetch(`${url}/api/v2/scep/challenges`, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/json' },
    body: JSON.stringify({ ttlMinutes: 5 }),
  });
  expect(minted.status).toBe(201);
  const { challenge } = ((await minted.json()) as { results: { challenge: string } }).results;
  const key = generateKeyPair('rsa').privateKey;
  const request = buildPkcsReq({
    caCert,
    recipientCert: raCert,
    privateKey: key,
    subject: { commonName: 'go-simulator' },
    challengePassword: challenge,
    encryption: 'des',
  });
  const res = await fetch(`${url}/scep?operation=PKIOperation`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-pki-message' },
    body: new Uint8Array(request.der),
  });
  expect(res.status).toBe(200);
  const certRep = parseCertRep(Buffer.from(await res.arrayBuffer()), {
    requesterKey: key,
    requesterCert: request.signer.certificate,
    caCert,
    raCert,
    expectedTransactionID: request.transactionID,
    expectedRecipientNonce: request.senderNonce,
  });
  return { certRep, transactionID: request.transactionID };
}

let dataDir: string;
beforeAll(() => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'mockiron-scep-des-'));
  cpSync(inject('templateDataDir'), dataDir, { recursive: true });
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('mockiron serve --scep-allow-des', () => {
  it('without it: badAlg and one log line naming des-cbc and the setting; with it: issued, answered in DES', async () => {
    const plain = serve(dataDir, []);
    try {
      const refused = await desRequest(await plain.url);
      expect(refused.certRep).toMatchObject({ status: 'FAILURE', failInfo: 'badAlg' });
      expect(refused.certRep.failInfoText).toMatch(/single DES/);
      // The log line is written by another stream than the answer: wait for it rather than race it.
      await vi.waitFor(() => expect(plain.output()).toContain(refused.transactionID), { timeout: 5000, interval: 50 });
      const lines = plain
        .output()
        .split('\n')
        .filter((l) => l.includes(refused.transactionID));
      expect(lines).toHaveLength(1);
      const line = JSON.parse(lines[0]!) as { level: number; msg: string };
      expect(line.level).toBe(40);
      expect(line.msg).toMatch(/des-cbc.*1\.3\.14\.3\.2\.7/);
      expect(line.msg).toContain('--scep-allow-des');
      expect(line.msg).toContain('MOCKIRON_SCEP_ALLOW_DES');
    } finally {
      expect(await plain.stop()).toBe(0);
    }

    const allowing = serve(dataDir, ['--scep-allow-des']);
    try {
      const accepted = await desRequest(await allowing.url);
      expect(accepted.certRep.status).toBe('SUCCESS');
      expect(accepted.certRep.contentEncryption).toBe('des');
      expect(accepted.certRep.certificates[0]!.subject).toBe('CN=go-simulator');
      await vi.waitFor(() => expect(allowing.output()).toMatch(/"contentEncryption":"des-cbc"[^\n]*"msg":"SCEP certificate issued"/), {
        timeout: 5000,
        interval: 50,
      });
    } finally {
      expect(await allowing.stop()).toBe(0);
    }
  }, 60_000);
});
