/**
 * A tunnel group's authentication step (ASA `tunnel-group NAME webvpn-attributes` /
 * `authentication aaa | certificate | aaa certificate`): which steps the session must pass,
 * the username (`username-from-certificate` when the certificate authenticates), and the
 * certificate's fields for DAP. A refused session never reaches DAP.
 */
import {
  type AuthenticationRefusal,
  type ClientCertificateFacts,
  type TrustAnchor,
  certificateDapAttributes,
  readClientCertificate,
  usernameFromCertificate,
  validateClientCertificate,
} from './certificate.js';
import type { HeadEndConfig, Session, TunnelGroup } from './types.js';

/** The trustpoint a head-end without trustpoints has: mockiron's own CA, checked against its CRL. */
export const IMPLICIT_TRUSTPOINT = 'MOCKIRON_CA';

/** What the head-end knows of mockiron's CA at the time of the session. */
export interface MockironPki {
  /** null when mockiron holds no CA (an imported signing identity). */
  caCertificatePem: string | null;
  /** The CA's current CRL (DER), or null with the reason. */
  crl: Buffer | null;
  crlUnavailable?: string;
}

/** The trustpoints of the config as trust anchors; mockiron's CA stands in where a trustpoint names no CA certificate. */
export function trustAnchors(config: HeadEndConfig, pki: MockironPki | undefined): TrustAnchor[] {
  const trustpoints =
    config.trustpoints.length > 0
      ? config.trustpoints
      : [{ name: IMPLICIT_TRUSTPOINT, caCertificate: null, revocationCheck: 'crl' as const }];
  return trustpoints.map((tp) =>
    tp.caCertificate !== null
      ? {
          trustpoint: tp.name,
          caCertificatePem: tp.caCertificate,
          revocationCheck: tp.revocationCheck,
          crl: null,
          crlUnavailable: 'mockiron fetches no CRL for an outside CA',
        }
      : {
          trustpoint: tp.name,
          caCertificatePem: pki?.caCertificatePem ?? null,
          revocationCheck: tp.revocationCheck,
          crl: pki?.crl ?? null,
          ...(pki?.crlUnavailable || !pki ? { crlUnavailable: pki?.crlUnavailable ?? "mockiron's CRL was not given" } : {}),
        },
  );
}

export type StepOutcome = 'passed' | 'refused' | 'not-required';

export interface CertificateSummary {
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: string;
  notAfter: string;
}

export interface SessionAuthentication {
  method: TunnelGroup['authentication'];
  aaa: StepOutcome;
  certificate: StepOutcome;
  /** The trustpoint whose CA issued the certificate, when it was validated. */
  trustpoint: string | null;
  username: string | null;
  usernameSource: 'aaa' | 'certificate' | null;
  presentedCertificate: CertificateSummary | null;
  refusal: AuthenticationRefusal | null;
  /** What was checked, in order. */
  checks: string[];
  /** DAP endpoint attributes of the presented certificate (empty without one). */
  certificateAttributes: Record<string, string>;
}

function summary(facts: ClientCertificateFacts): CertificateSummary {
  return {
    subject: facts.subjectDn,
    issuer: facts.issuerDn,
    serialNumber: facts.serialNumber,
    notBefore: facts.notBefore.toISOString(),
    notAfter: facts.notAfter.toISOString(),
  };
}

/**
 * Authenticates a session against its tunnel group. The certificate is read first (a PEM that is
 * not a certificate throws ClientCertificateError: bad input, not a refusal); with
 * `aaa certificate` both steps must pass, the certificate first as on an ASA.
 */
export function authenticateSession(tunnelGroup: TunnelGroup, session: Session, anchors: TrustAnchor[], now: Date): SessionAuthentication {
  const method = tunnelGroup.authentication;
  const wantsCertificate = method !== 'aaa';
  const wantsAaa = method !== 'certificate';
  const facts = session.clientCertificatePem !== undefined ? readClientCertificate(session.clientCertificatePem) : null;
  const aaaUsername = typeof session.aaa['aaa.cisco.username'] === 'string' ? session.aaa['aaa.cisco.username'] : null;
  const result: SessionAuthentication = {
    method,
    aaa: 'not-required',
    certificate: 'not-required',
    trustpoint: null,
    username: aaaUsername,
    usernameSource: aaaUsername ? 'aaa' : null,
    presentedCertificate: facts ? summary(facts) : null,
    refusal: null,
    checks: [`tunnel group '${tunnelGroup.name}' authenticates with: ${method}`],
    certificateAttributes: facts ? certificateDapAttributes(facts) : {},
  };
  const fail = (refusal: AuthenticationRefusal): SessionAuthentication => {
    result.refusal = refusal;
    result.checks.push(`connection refused (${refusal.code}): ${refusal.message}`);
    return result;
  };

  if (wantsCertificate) {
    if (!facts) {
      result.certificate = 'refused';
      return fail({
        code: 'missing',
        message: `tunnel group '${tunnelGroup.name}' requires a client certificate and the session presented none`,
      });
    }
    const validation = validateClientCertificate(facts, anchors, now);
    result.checks.push(...validation.checks.filter((c) => !c.startsWith('refused')));
    result.trustpoint = validation.trustpoint;
    if (!validation.ok) {
      result.certificate = 'refused';
      return fail(validation.refusal!);
    }
    result.certificate = 'passed';
    if (method === 'certificate' || !aaaUsername) {
      const derived = usernameFromCertificate(facts, tunnelGroup.usernameFromCertificate);
      if (derived.username) {
        result.username = derived.username;
        result.usernameSource = 'certificate';
      }
      result.checks.push(`username: ${derived.username ? `'${derived.username}' from ${derived.from}` : `none (${derived.from})`}`);
    }
  } else if (facts) {
    result.checks.push('a client certificate was presented; the tunnel group does not authenticate with it, but DAP sees its fields');
  }
  if (wantsAaa) {
    if (session.aaaAuthenticated === false) {
      result.aaa = 'refused';
      return fail({ code: 'aaa-failed', message: `AAA authentication failed for tunnel group '${tunnelGroup.name}'` });
    }
    result.aaa = 'passed';
    result.checks.push(`AAA: passed${aaaUsername ? ` as '${aaaUsername}'` : ''} (mockiron checks no passwords)`);
  }
  return result;
}
