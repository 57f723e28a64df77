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
import type { PushProvider } from '../mdm/push.js';
import { ApnsPushProvider, type ApnsSettings } from '../mdm/apns.js';
import { PushCertificateService } from '../mdm/push-certificate.js';
import { mdmTopic } from '../enrollment/service.js';
import { DeviceProfileService } from '../profiles/service.js';
import { CertificateEnrollmentService, DeviceIdentityService } from '../cert-enrollments/index.js';
import type { SigningService } from '../signing/service.js';
import { VpnService } from '../vpn/service.js';
import { DeviceDirectory } from '../devices/directory.js';
import { deviceStore } from '../devices/index.js';
import { DeviceService, devicesOfUsers } from '../devices/service.js';
import { DeviceImporter, defaultBulkImportLimits, type BulkImportLimits } from '../devices/bulk.js';
import { InventoryService } from '../inventory/service.js';
import { deviceAppStore } from '../inventory/store.js';
import { LabelService } from '../labels/service.js';
import { DeviceSpaceService } from '../device-spaces/service.js';
import { UserService } from '../users/service.js';
import { CoreV1Service } from '../core-v1/service.js';
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
  /** Where pushes go once a push certificate is uploaded (default: Apple's production host). */
  apns?: ApnsSettings;
  /** Header a TLS-terminating proxy forwards the client certificate in, if any. */
  clientCertHeader?: string;
  /** SCEP accepts single DES-CBC (`--scep-allow-des`). */
  scepAllowDes?: boolean;
  /** MachineInfo enrollment accepts devices no record knows (`--enroll-unknown-devices`). */
  enrollUnknownDevices?: boolean;
  /** InstallProfile carries plain XML, not CMS (`--install-profile-unsigned`). */
  installProfileUnsigned?: boolean;
  /** How often identity certificates are checked for renewal (default hourly; one check at start). */
  identityRenewalIntervalMs?: number;
  /** Bounds of the CSV bulk import that differ from its defaults. */
  bulkImport?: Partial<BulkImportLimits>;
}

export function buildServices(deps: ServiceDeps) {
  const { db, changes } = deps;
  const secrets = SecretBox.open(deps.dataDir);
  const events = new EventBus(deps.logger);
  const directory = new DeviceDirectory(db, changes);
  const labels = new LabelService(db, directory, events);
  const devices = new DeviceService(db, directory, labels, events);
  const deviceImports = new DeviceImporter(db, directory, labels, deps.logger, {
    ...defaultBulkImportLimits,
    ...Object.fromEntries(Object.entries(deps.bulkImport ?? {}).filter(([, v]) => v !== undefined)),
  });
  const policy = new PolicyService(db, changes);
  const deviceSpaces = new DeviceSpaceService({
    count: (actor) => devices.count(actor, {}),
    searchFields: (actor) => devices.searchFields(actor),
  });
  const certificates = new CertificateRegistry(db, deps.signing, deps.logger);
  const certificateEnrollments = new CertificateEnrollmentService(db);
  const identities = new DeviceIdentityService(db, secrets, deps.signing, certificates, deps.namespace, deps.publicUrl, deps.logger);
  const profiles = new DeviceProfileService(policy, deps.signing, deps.namespace, changes, secrets, identities);
  const scep = new ScepService(db, deps.signing, certificates, deps.publicUrl, deps.logger, { allowDes: deps.scepAllowDes });
  // Identity challenges (VPN certificates) are issued per their certificate enrollment setting
  scep.identityIssuer = identities;
  // The push certificate decides: none, pushes are recorded; one, they go to APNs.
  const pushCertificates = new PushCertificateService(
    db,
    secrets,
    {
      async enrolledTopics() {
        const topics = new Map<string, number>();
        for (const d of await deviceStore.activePushTargets(db))
          if (d.pushToken && d.topic) topics.set(d.topic, (topics.get(d.topic) ?? 0) + 1);
        return topics;
      },
    },
    deps.logger,
    mdmTopic,
  );
  const apns = deps.push
    ? undefined
    : new ApnsPushProvider(db, deps.logger, () => pushCertificates.current(), deps.apns ?? { url: 'https://api.push.apple.com' });
  const push: PushProvider = deps.push ?? apns!;
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
  devices.detailSources.push((d) => identities.detailsFor(d));
  // Identities due for renewal (or revoked) get their next generation; their devices are reconciled
  mdm.reconciler.renewal = { sweep: () => identities.sweep(), intervalMs: deps.identityRenewalIntervalMs ?? 3_600_000 };
  // A changed setting changes what every device using it carries: profiles are rebuilt, devices reconciled
  certificateEnrollments.onChanged = () => {
    identities.settingsChanged();
    mdm.reconciler.markAllStale();
  };
  // InstalledApplicationList answers become the device's app inventory.
  mdm.results.appInventory = deviceAppStore;
  const inventory = new InventoryService(db, {
    byUuids: async (uuids) => (await Promise.all(uuids.map((uuid) => deviceStore.findByUuid(db, uuid)))).filter((d) => d !== null),
    all: async () => (await directory.all()).map(({ facts }) => facts),
    search: async (actor, query) => {
      const found = await devices.list(actor, { query, fields: ['common.uuid'], page: { limit: 1000, offset: 0 }, order: 'asc' });
      return found.results.map((d) => String(d['common.uuid']));
    },
  });
  // A device's own changes concern only that device: reconcile it, not the fleet.
  for (const event of ['devices.changed', 'labels.membershipChanged', 'users.changed'] as const) {
    events.subscribe(event, ({ deviceIds }) => mdm.markDirty(deviceIds));
  }
  const users = new UserService(db, devicesOfUsers, events);
  // Core's app notification: the app's devices are reconciled now and pushed.
  const apps = new AppService(db, labels, {
    async deliver(deviceIds, what) {
      const targets = await deviceStore.activePushTargets(db, deviceIds);
      let commands = 0;
      let pushed = 0;
      for (const d of targets) {
        if (what.reconcile) commands += await mdm.reconcile(d.id);
        if (what.push && (await push.push(d, 'app notification')).outcome !== 'no-token') pushed++;
      }
      return { devices: targets.length, commands, pushed };
    },
  });
  const vpn = new VpnService(db, secrets);
  return {
    events,
    certificates,
    certificateEnrollments,
    identities,
    scep,
    push,
    apns,
    pushCertificates,
    enrollment: new EnrollmentService(db, deps.signing, scep, certificates, deps.namespace, deps.publicUrl, deps.logger, {
      enrollUnknownDevices: deps.enrollUnknownDevices ?? false,
      topic: () => pushCertificates.topic(),
    }),
    mdm,
    signing: deps.signing,
    profiles,
    policy,
    anyconnect: new AnyconnectService(
      db,
      policy,
      { caCertificatePem: () => deps.signing.ca?.certificatePem ?? null, crl: () => certificates.crl() },
      // The device presents its newest VPN identity certificate; its MDM certificate is not one.
      identities,
    ),
    labels,
    devices,
    deviceImports,
    deviceSpaces,
    inventory,
    vpn,
    apps,
    db,
    admins: new AdminService(db),
    users,
    // Core's v1 API shares the v2 services through its ports.
    coreV1: new CoreV1Service(devices, labels, users, mdm),
    audit: new AuditService(db),
    init: async () => {
      await labels.seedSystemLabels();
      await pushCertificates.load();
      await apns?.load();
      const sealed = await vpn.sealLegacyPasswords();
      const tokens = await mdm.sealLegacyUnlockTokens();
      if (sealed || tokens)
        deps.logger.info({ vpnConfigurations: sealed, unlockTokens: tokens }, 'encrypted secrets stored in clear by an older version');
    },
  };
}

export type Services = ReturnType<typeof buildServices>;
