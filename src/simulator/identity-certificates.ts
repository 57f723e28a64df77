// The identity certificates profiles installed on simulated devices, as `simulate status` shows
// them and as `simulate identity` hands one out (for `mockiron anyconnect simulate --client-cert`).
// Reads the state only: no network.

import { X509Certificate } from 'node:crypto';
import type { DeviceState, FleetState, InstalledProfileState, ProfileIdentityState } from './state.js';

export interface IdentityCertificateView {
  profile: string;
  payloadUuid: string;
  payloadIdentifier: string;
  source: 'scep' | 'pkcs12';
  /** Hex, as openssl prints it. */
  serialNumber: string;
  subject: string;
  /** As node and openssl print them: "DNS:host", "email:a@b", "URI:https://…", "IP Address:…". */
  subjectAltNames: string[];
  issuer: string;
  notBefore: string;
  notAfter: string;
  /** VPNUUIDs of the VPN payloads that authenticate with it. */
  vpnUuids: string[];
  /** Their names (UserDefinedName), where they have one. */
  vpnNames: string[];
}

function oneLine(name: string): string {
  return name.split('\n').join(', ');
}

export function identityCertificateView(profile: InstalledProfileState, identity: ProfileIdentityState): IdentityCertificateView {
  const certificate = new X509Certificate(identity.certificatePem);
  return {
    profile: profile.identifier,
    payloadUuid: identity.payloadUuid,
    payloadIdentifier: identity.payloadIdentifier,
    source: identity.source,
    serialNumber: certificate.serialNumber,
    subject: oneLine(certificate.subject),
    subjectAltNames: certificate.subjectAltName ? certificate.subjectAltName.split(', ') : [],
    issuer: oneLine(certificate.issuer),
    notBefore: new Date(certificate.validFrom).toISOString(),
    notAfter: new Date(certificate.validTo).toISOString(),
    vpnUuids: identity.vpns.flatMap((v) => (v.vpnUuid ? [v.vpnUuid] : [])),
    vpnNames: identity.vpns.flatMap((v) => (v.name ? [v.name] : [])),
  };
}

/** Every identity certificate the device's profiles installed (the MDM identity is not one of them). */
export function identityCertificateViews(device: DeviceState): IdentityCertificateView[] {
  return Object.values(device.profiles).flatMap((profile) => (profile.identities ?? []).map((id) => identityCertificateView(profile, id)));
}

export class IdentityLookupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdentityLookupError';
  }
}

export interface VpnIdentityQuery {
  /** The VPN payload's VPNUUID (any case). */
  vpnUuid?: string;
  /** The VPN payload's UserDefinedName: the VPN configuration's name on the server. */
  vpnName?: string;
  /** The device's UDID; needed when more than one device holds an identity for that VPN. */
  udid?: string;
}

export interface VpnIdentity {
  udid: string;
  view: IdentityCertificateView;
  certificatePem: string;
  privateKeyPem: string;
}

/** The identity a VPN authenticates with on one device; IdentityLookupError says why there is not exactly one. */
export function findVpnIdentity(state: FleetState, query: VpnIdentityQuery): VpnIdentity {
  if ((query.vpnUuid === undefined) === (query.vpnName === undefined))
    throw new IdentityLookupError('name the VPN by its VPNUUID or by its name, not both');
  const wanted = query.vpnUuid !== undefined ? `VPNUUID ${query.vpnUuid}` : `VPN "${query.vpnName}"`;
  const matches: VpnIdentity[] = [];
  for (const device of state.devices) {
    if (query.udid !== undefined && device.identity.udid.toLowerCase() !== query.udid.toLowerCase()) continue;
    for (const profile of Object.values(device.profiles)) {
      for (const identity of profile.identities ?? []) {
        const used = identity.vpns.some((v) =>
          query.vpnUuid !== undefined ? v.vpnUuid?.toUpperCase() === query.vpnUuid.toUpperCase() : v.name === query.vpnName,
        );
        if (used) {
          matches.push({
            udid: device.identity.udid,
            view: identityCertificateView(profile, identity),
            certificatePem: identity.certificatePem,
            privateKeyPem: identity.privateKeyPem,
          });
        }
      }
    }
  }
  const scope = query.udid !== undefined ? `device ${query.udid}` : 'any simulated device';
  if (matches.length === 0) throw new IdentityLookupError(`no identity certificate on ${scope} is used by ${wanted}`);
  if (matches.length > 1) {
    const devices = [...new Set(matches.map((m) => m.udid))];
    throw new IdentityLookupError(
      devices.length > 1
        ? `${devices.length} devices hold an identity for ${wanted}: choose one with --device (${devices.slice(0, 5).join(', ')}${devices.length > 5 ? ', …' : ''})`
        : `${matches.length} identity certificates on device ${devices[0]} are used by ${wanted}`,
    );
  }
  return matches[0]!;
}
