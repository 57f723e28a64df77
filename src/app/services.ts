// Builds every capability's service from its dependencies. Tests and the CLI use this too.
import { AdminService } from '../admins/service.js';
import { AuditService } from '../audit/service.js';
import type { ChangeCounter } from '../platform/db/changes.js';
import type { Db } from '../platform/db/client.js';
import type { Logger } from '../platform/logger.js';
import { AnyconnectService } from '../anyconnect/service.js';
import { AppService } from '../apps/service.js';
import { PolicyService } from '../policy/service.js';
import { ScepService } from '../scep/service.js';
import { CertificateRegistry } from '../certificates/index.js';
import { EnrollmentService } from '../enrollment/service.js';
import { MdmService } from '../mdm/service.js';
import { RecordingPushProvider, type PushProvider } from '../mdm/push.js';
import { DeviceProfileService } from '../profiles/service.js';
import type { SigningService } from '../signing/service.js';
import { VpnService } from '../vpn/service.js';
import { DeviceDirectory } from '../devices/directory.js';
import { DeviceService, devicesOfUsers } from '../devices/service.js';
import { LabelService } from '../labels/service.js';
import { UserService } from '../users/service.js';
import { SecretBox } from '../platform/secrets/box.js';
import { EventBus } from '../platform/events.js';

export interface ServiceDeps {
  db: Db;
  changes: ChangeCounter;
  logger: Logger;
  dataDir: string;
  publicUrl: string;
  signing: SigningService;
  /** Per-installation UUID namespace for derived PayloadUUIDs. */
  namespace: string;
  push?: PushProvider;
  /** Header a TLS-terminating proxy forwards the client certificate in, if any. */
  clientCertHeader?: string;
  /** SCEP accepts single DES-CBC (`--scep-allow-des`). */
  scepAllowDes?: boolean;
  /** MachineInfo enrollment accepts devices no record knows (`--enroll-unknown-devices`). */
  enrollUnknownDevices?: boolean;
  /** InstallProfile carries plain XML, not CMS (`--install-profile-unsigned`). */
  installProfileUnsigned?: boolean;
}

export function buildServices(deps: ServiceDeps) {
  const { db, changes } = deps;
  const secrets = SecretBox.open(deps.dataDir);
  const events = new EventBus(deps.logger);
  const directory = new DeviceDirectory(db, changes);
  const labels = new LabelService(db, directory, events);
  const devices = new DeviceService(db, directory, labels, events);
  const policy = new PolicyService(db, labels);
  const profiles = new DeviceProfileService(policy, deps.signing, deps.namespace, changes, secrets);
  const certificates = new CertificateRegistry(db, deps.signing, deps.logger);
  const scep = new ScepService(db, deps.signing, certificates, deps.publicUrl, deps.logger, { allowDes: deps.scepAllowDes });
  const push = deps.push ?? new RecordingPushProvider(db);
  const mdm = new MdmService({
    db,
    certificates,
    profiles,
    policy,
    signing: deps.signing,
    push,
    changes,
    logger: deps.logger,
    secrets,
    clientCertHeader: deps.clientCertHeader,
    installProfileUnsigned: deps.installProfileUnsigned,
  });
  devices.detailSources.push((d) => mdm.detailsFor(d));
  // A device's own changes concern only that device: reconcile it, not the fleet.
  for (const event of ['devices.changed', 'labels.membershipChanged', 'users.changed'] as const) {
    events.subscribe(event, ({ deviceIds }) => mdm.markDirty(deviceIds));
  }
  const users = new UserService(db, devicesOfUsers, events);
  const vpn = new VpnService(db, secrets);
  return {
    events,
    certificates,
    scep,
    push,
    enrollment: new EnrollmentService(db, deps.signing, scep, certificates, deps.namespace, deps.publicUrl, deps.logger, {
      enrollUnknownDevices: deps.enrollUnknownDevices ?? false,
    }),
    mdm,
    signing: deps.signing,
    profiles,
    policy,
    anyconnect: new AnyconnectService(db, policy),
    labels,
    devices,
    vpn,
    apps: new AppService(db),
    db,
    admins: new AdminService(db),
    users,
    audit: new AuditService(db),
    init: async () => {
      await labels.seedSystemLabels();
      const sealed = await vpn.sealLegacyPasswords();
      const tokens = await mdm.sealLegacyUnlockTokens();
      if (sealed || tokens)
        deps.logger.info({ vpnConfigurations: sealed, unlockTokens: tokens }, 'encrypted secrets stored in clear by an older version');
    },
  };
}

export type Services = ReturnType<typeof buildServices>;
