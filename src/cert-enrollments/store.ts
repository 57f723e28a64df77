import type { DbTx, Prisma } from '../platform/db/client.js';
import { deviceStore } from '../devices/index.js';

/** CertificateEnrollment and DeviceIdentity: only the cert-enrollments capability reads and writes them. */
export const enrollmentStore = {
  findById: (tx: DbTx, id: number) => tx.certificateEnrollment.findUnique({ where: { id } }),
  findByIds: (tx: DbTx, ids: number[]) => tx.certificateEnrollment.findMany({ where: { id: { in: ids } }, orderBy: { id: 'asc' } }),
  findByName: (tx: DbTx, name: string) => tx.certificateEnrollment.findUnique({ where: { nameKey: name.toLowerCase() } }),
  count: (tx: DbTx) => tx.certificateEnrollment.count(),
  list: (tx: DbTx, page: { limit: number; offset: number }, orderBy: Record<string, 'asc' | 'desc'>) =>
    tx.certificateEnrollment.findMany({ skip: page.offset, take: page.limit, orderBy: [orderBy, { id: 'asc' }] }),
  create: (tx: DbTx, data: Prisma.CertificateEnrollmentCreateInput) => tx.certificateEnrollment.create({ data }),
  update: (tx: DbTx, id: number, data: Prisma.CertificateEnrollmentUpdateInput) => tx.certificateEnrollment.update({ where: { id }, data }),
  remove: (tx: DbTx, id: number) => tx.certificateEnrollment.delete({ where: { id } }),
  /** VPN configurations that authenticate with this setting (deleting it would strand them). */
  vpnConfigurationsReferencing: (tx: DbTx, id: number) =>
    tx.vpnConfiguration.findMany({ where: { certificateEnrollmentId: id }, select: { id: true, name: true }, orderBy: { id: 'asc' } }),

  // DeviceIdentity
  identity: (tx: DbTx, deviceRef: number, enrollmentRef: number) =>
    tx.deviceIdentity.findUnique({ where: { deviceRef_enrollmentRef: { deviceRef, enrollmentRef } } }),
  identityById: (tx: DbTx, id: number) => tx.deviceIdentity.findUnique({ where: { id }, include: { enrollment: true } }),
  createIdentity: (tx: DbTx, deviceRef: number, enrollmentRef: number) =>
    tx.deviceIdentity.upsert({
      where: { deviceRef_enrollmentRef: { deviceRef, enrollmentRef } },
      create: { deviceRef, enrollmentRef },
      update: {},
    }),
  setIdentityCertificate: (tx: DbTx, id: number, generation: number, certificateSerial: string) =>
    tx.deviceIdentity.updateMany({ where: { id, generation }, data: { certificateSerial } }),
  setIdentityFilled: (tx: DbTx, id: number, generation: number, filled: string) =>
    tx.deviceIdentity.updateMany({ where: { id, generation, certificateSerial: null }, data: { filled } }),
  setIdentityPkcs12: (
    tx: DbTx,
    id: number,
    generation: number,
    data: { pkcs12: string; pkcs12Password: string; certificateSerial: string; filled: string },
  ) => tx.deviceIdentity.updateMany({ where: { id, generation, pkcs12: null }, data }),
  /** Starts the next generation: only from the generation the caller saw (a concurrent rotation wins once). */
  rotateIdentity: async (tx: DbTx, id: number, fromGeneration: number) =>
    (
      await tx.deviceIdentity.updateMany({
        where: { id, generation: fromGeneration },
        data: { generation: fromGeneration + 1, certificateSerial: null, pkcs12: null, pkcs12Password: null },
      })
    ).count,
  /** Identities whose current generation has a certificate: the renewal sweep's candidates. */
  identitiesWithCertificate: (tx: DbTx) =>
    tx.deviceIdentity.findMany({
      where: { certificateSerial: { not: null } },
      select: { id: true, deviceRef: true, generation: true, certificateSerial: true, enrollment: { select: { renewalWindowDays: true } } },
    }),
  identitiesOfDevice: (tx: DbTx, deviceRef: number) =>
    tx.deviceIdentity.findMany({ where: { deviceRef }, include: { enrollment: { select: { id: true, name: true } } } }),

  // ScepChallenge rows of identities (registered hashed; the SCEP capability consumes them)
  challengeFor: (tx: DbTx, challengeHash: string) => tx.scepChallenge.findUnique({ where: { challengeHash } }),
  createIdentityChallenge: (tx: DbTx, data: { challengeHash: string; deviceRef: number; identityRef: number; expiresAt: Date }) =>
    tx.scepChallenge.create({ data: { ...data, purpose: 'identity', createdBy: 'identity' } }),
  /** An identity's unused challenges of earlier generations can no longer enroll. */
  dropUnusedIdentityChallenges: (tx: DbTx, identityRef: number) =>
    tx.scepChallenge.deleteMany({ where: { identityRef, purpose: 'identity', usedAt: null } }),

  // Device rows through their one owner, the devices store
  findDeviceById: (tx: DbTx, id: number) => deviceStore.refById(tx, id),
  findDeviceByUuid: (tx: DbTx, uuid: string) => deviceStore.refByUuid(tx, uuid),
};
