// The per-device VPN profile: every VPN configuration reaching the device, built
// deterministically, then signed. Cached per device until a policy table changes.
import { requireRead, type Actor } from '../platform/auth/actor.js';
import type { ChangeCounter } from '../platform/db/changes.js';
import { DomainError } from '../platform/errors/index.js';
import type { PolicyService, ResolvedPolicy } from '../policy/index.js';
import type { SecretBox } from '../platform/secrets/box.js';
import { SigningService } from '../signing/index.js';
import { vpnSpec } from '../vpn/index.js';
import { buildConfigurationProfile, buildVpnProfile, toXml } from '../lib/profiles/profile.js';
import { uuidV5 } from '../lib/profiles/uuid.js';
import { usesCertificate, type VpnConfigSpec } from '../lib/profiles/vpn-payload.js';
import type { DeviceIdentityService, IdentityPayload } from '../cert-enrollments/index.js';

export interface DeviceProfile {
  xml: Buffer;
  /** sha256 of the unsigned XML: the ETag, and the signed-bytes cache key. */
  hash: string;
  identifier: string;
  deviceUuid: string;
}

export const vpnProfileIdentifier = (deviceUuid: string) => `com.mockiron.vpn.${deviceUuid.toLowerCase()}`;

export class DeviceProfileService {
  private cache = new Map<string, { changes: number; identities: number; profile: DeviceProfile }>();
  /** VPN configurations with their password opened, per row version: opening costs more than building. */
  private specs = new Map<string, ReturnType<typeof vpnSpec>>();

  constructor(
    private readonly policy: PolicyService,
    private readonly signing: SigningService,
    private readonly namespace: string,
    private readonly changes: ChangeCounter,
    private readonly secrets: SecretBox,
    /** Identity payloads for certificate-authenticated configurations (per device and setting, stable until renewal). */
    private readonly identities: Pick<DeviceIdentityService, 'payloadsFor' | 'version'>,
  ) {}

  /**
   * Builds the unsigned VPN profile for a resolved policy (null when no VPN reaches it). Each
   * certificate-authenticated configuration names its setting's identity payload; configurations
   * sharing a setting share the payload.
   */
  async build(p: ResolvedPolicy): Promise<DeviceProfile | null> {
    if (p.vpnRows.length === 0) return null;
    const d = p.device;
    const identifier = vpnProfileIdentifier(d.uuid);
    const variables = {
      userId: d.user?.userId,
      email: d.user?.email ?? undefined,
      displayName: d.user?.displayName ?? undefined,
      deviceUuid: d.uuid,
      serialNumber: d.serialNumber ?? undefined,
      udid: d.udid ?? undefined,
    };
    const specs = p.vpnRows.map((row) => this.spec(row));
    const settingIds: number[] = [];
    for (const spec of specs) {
      if (!usesCertificate(spec)) continue;
      if (spec.certificateEnrollmentId === null) {
        throw new DomainError('profile.certificateAuth', `VPN configuration ${spec.name} uses certificate authentication but names no certificate enrollment setting`);
      }
      settingIds.push(spec.certificateEnrollmentId);
    }
    const identities = settingIds.length ? await this.identities.payloadsFor(d, variables, settingIds, identifier) : new Map<number, IdentityPayload>();
    const vpnConfigs: VpnConfigSpec[] = specs.map((spec) => ({
      ...spec,
      description: spec.description || undefined,
      certificatePayloadUuid:
        usesCertificate(spec) && spec.certificateEnrollmentId !== null ? identities.get(spec.certificateEnrollmentId)?.payloadUuid : undefined,
    }));
    const plist = buildVpnProfile({
      extraPayloads: [...identities.values()].map((i) => i.payload),
      profile: {
        identifier,
        displayName: 'VPN',
        description: `VPN configurations for ${d.deviceName ?? d.uuid}: ${vpnConfigs.map((v) => v.name).join(', ')}`,
        organization: 'mockiron',
      },
      vpnConfigs,
      namespace: this.namespace,
      variables,
    });
    const xml = Buffer.from(toXml(plist));
    return { xml, hash: SigningService.contentHash(xml), identifier, deviceUuid: d.uuid };
  }

  private spec(row: ResolvedPolicy['vpnRows'][number]): ReturnType<typeof vpnSpec> {
    const key = `${row.id}/${row.updatedAt.getTime()}/${row.password ?? ''}`;
    let spec = this.specs.get(key);
    if (!spec) {
      spec = vpnSpec(row, this.secrets);
      if (this.specs.size > 1000) this.specs.clear();
      this.specs.set(key, spec);
    }
    return spec;
  }

  /** The device's VPN profile, from cache while no policy table has changed. */
  async forDevice(actor: Actor, uuid: string): Promise<DeviceProfile> {
    const changesAtStart = this.changes.value;
    const identitiesAtStart = this.identities.version;
    const cached = this.cache.get(uuid);
    if (cached && cached.changes === changesAtStart && cached.identities === identitiesAtStart) {
      // Authorization still runs: the cache never bypasses the service's rules.
      requireRead(actor);
      return cached.profile;
    }
    const p = await this.policy.forDevice(actor, uuid);
    const profile = await this.build(p);
    if (!profile) {
      throw new DomainError(
        'profile.noVpn',
        `Device ${uuid} has no VPN configuration: none of its labels (${p.labels.map((l) => l.name).join(', ')}) has one applied`,
      );
    }
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(uuid, { changes: changesAtStart, identities: identitiesAtStart, profile });
    return profile;
  }

  signed(profile: DeviceProfile): Buffer {
    return this.signing.sign(profile.xml);
  }

  /** A profile that installs our CA as a trusted root on the device. */
  trustProfile(): Buffer {
    const identifier = 'com.mockiron.trust';
    const caDer = this.signing.caDer();
    const plist = buildConfigurationProfile({
      profile: { identifier, displayName: 'mockiron CA', description: 'Trust the mockiron certificate authority', organization: 'mockiron' },
      namespace: this.namespace,
      payloads: [
        {
          PayloadContent: caDer,
          PayloadDescription: 'The mockiron root certificate',
          PayloadDisplayName: this.signing.trustAnchor.subject.split('\n').find((l) => l.startsWith('CN='))?.slice(3) ?? 'mockiron CA',
          PayloadIdentifier: `${identifier}.root`,
          PayloadType: 'com.apple.security.root',
          PayloadUUID: uuidV5(this.namespace, `mockiron/trust/${SigningService.contentHash(caDer)}`).toUpperCase(),
          PayloadVersion: 1,
        },
      ],
    });
    return this.signing.sign(Buffer.from(toXml(plist)));
  }
}
