// A device's VPN identity certificate obtained the way a device gets it (issue #18): a
// certificate-authenticated VPN configuration on one of its labels, the InstallProfile the
// reconciler queues, the SCEP payload inside it, SCEP with that payload's challenge.
import type { X509Certificate, KeyObject } from 'node:crypto';
import { expect } from 'vitest';
import { verifyCms } from '../../src/lib/pki/cms.js';
import { parsePlist, type PlistDict } from '../../src/lib/plist/index.js';
import type { TestApp } from './app.js';
import type { TestDevice } from './device.js';

export interface VpnIdentity {
  certificate: X509Certificate;
  key: KeyObject;
  /** The VPN configuration and certificate enrollment setting made for it. */
  vpnId: number;
  settingId: number;
}

/**
 * Creates a SCEP certificate enrollment setting, an AnyConnect VPN configuration with
 * certificate authentication on a new manual label, puts the device in it, reconciles, and
 * enrolls the identity from the profile's SCEP payload. The device keeps its MDM identity.
 */
export async function obtainVpnIdentity(
  t: TestApp,
  device: TestDevice,
  options: { name?: string; subject?: string; group?: string } = {},
): Promise<VpnIdentity> {
  const name = options.name ?? 'vpn identity';
  const setting = await t.admin.post('/api/v2/configurations/certificate-enrollment').send({
    name,
    method: 'SCEP',
    subject: options.subject ?? 'CN=$USERID$,OU=vpn,O=Example',
    subjectAltNames: [{ type: 'rfc822Name', value: '$EMAIL$' }],
  });
  expect(setting.status, JSON.stringify(setting.body)).toBe(201);
  const vpn = await t.admin.post('/api/v2/configurations/vpn').send({
    name,
    connectionType: 'ANYCONNECT',
    server: 'asa.example.com',
    ...(options.group ? { group: options.group } : {}),
    userAuthentication: 'CERTIFICATE',
    certificateEnrollmentId: setting.body.results.id,
  });
  expect(vpn.status, JSON.stringify(vpn.body)).toBe(201);
  const label = await t.admin.post('/api/v2/labels').send({ name: `${name} devices`, static: true });
  expect(label.status, JSON.stringify(label.body)).toBe(201);
  expect((await t.admin.put(`/api/v2/configurations/vpn/${vpn.body.results.id}/labels/${label.body.results.id}`)).status).toBe(200);
  expect(
    (await t.admin.put(`/api/v2/devices/labels/${encodeURIComponent(`${name} devices`)}/add`).send({ deviceUuids: [device.deviceUuid] }))
      .status,
  ).toBe(200);
  const deviceId = (await t.services.db.device.findUniqueOrThrow({ where: { uuid: device.deviceUuid } })).id;
  await t.services.mdm.reconcile(deviceId);
  const installs = (await device.drain()).filter((c) => (c.Command as PlistDict).RequestType === 'InstallProfile');
  expect(installs.length).toBeGreaterThan(0);
  const payload = (installs.at(-1)!.Command as PlistDict).Payload as Buffer;
  const profile = parsePlist(verifyCms(payload, { trustAnchors: [device.caPem] }).content) as PlistDict;
  const scep = (profile.PayloadContent as PlistDict[]).find((p) => p.PayloadType === 'com.apple.security.scep');
  expect(scep, 'the profile carries a SCEP identity payload').toBeDefined();
  const mdmIdentity = { key: device.key, certificate: device.certificate };
  try {
    const rep = await device.scep(scep!.PayloadContent as PlistDict);
    expect(rep.status).toBe('SUCCESS');
    return { certificate: device.certificate, key: device.key, vpnId: vpn.body.results.id, settingId: setting.body.results.id };
  } finally {
    // TestDevice.scep makes the new certificate its identity; MDM requests keep the MDM one.
    Object.assign(device, mdmIdentity);
  }
}
