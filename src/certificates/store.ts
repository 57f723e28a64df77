import type { DbTx, Prisma } from '../platform/db/client.js';

/** The DeviceCertificate table: only the certificates capability reads and writes it. */
export const certificateStore = {
  createCertificate: (tx: DbTx, data: Prisma.DeviceCertificateUncheckedCreateInput) => tx.deviceCertificate.create({ data }),
  findCertificateByFingerprint: (tx: DbTx, fingerprintSha256: string) => tx.deviceCertificate.findUnique({ where: { fingerprintSha256 } }),
  bindUnboundCertificate: async (tx: DbTx, fingerprintSha256: string, deviceRef: number) =>
    (await tx.deviceCertificate.updateMany({ where: { fingerprintSha256, deviceRef: null }, data: { deviceRef } })).count,
  findCertificateBySerial: (tx: DbTx, serialNumber: string) => tx.deviceCertificate.findUnique({ where: { serialNumber } }),
  /** With the owning device's UUID, for the admin view. */
  findCertificateViewBySerial: (tx: DbTx, serialNumber: string) =>
    tx.deviceCertificate.findUnique({ where: { serialNumber }, include: { device: { select: { uuid: true } } } }),
  /** The newest certificate issued for a SCEP transaction (a retried transaction keeps its ID). */
  latestCertificateForTransaction: (tx: DbTx, transactionId: string) =>
    tx.deviceCertificate.findFirst({ where: { transactionId, source: 'scep' }, orderBy: { id: 'desc' } }),
  countCertificates: (tx: DbTx, where: Prisma.DeviceCertificateWhereInput) => tx.deviceCertificate.count({ where }),
  listCertificates: (
    tx: DbTx,
    where: Prisma.DeviceCertificateWhereInput,
    page: { limit: number; offset: number },
    orderBy: Record<string, 'asc' | 'desc'>,
  ) =>
    tx.deviceCertificate.findMany({
      where,
      skip: page.offset,
      take: page.limit,
      orderBy: [orderBy, { id: 'asc' }],
      include: { device: { select: { uuid: true } } },
    }),
  revokedCertificates: (tx: DbTx) =>
    tx.deviceCertificate.findMany({
      where: { revoked: true },
      select: { serialNumber: true, revokedAt: true, createdAt: true },
      orderBy: { id: 'asc' },
    }),
  /** Certificates the device can authenticate MDM requests with (identity certificates cannot). */
  countUsableOfDevice: (tx: DbTx, deviceRef: number, at: Date) =>
    tx.deviceCertificate.count({ where: { deviceRef, purpose: 'mdm', revoked: false, notAfter: { gt: at } } }),
  /** A device's identity certificates (VPN), newest first. */
  identityCertificatesOfDevice: (tx: DbTx, deviceRef: number) =>
    tx.deviceCertificate.findMany({ where: { deviceRef, purpose: 'identity' }, orderBy: { id: 'desc' } }),
  activeCertificatesOfDevice: (tx: DbTx, deviceRef: number) =>
    tx.deviceCertificate.findMany({ where: { deviceRef, revoked: false }, select: { id: true, serialNumber: true } }),
  revokeCertificates: (tx: DbTx, ids: number[], at: Date) =>
    tx.deviceCertificate.updateMany({ where: { id: { in: ids }, revoked: false }, data: { revoked: true, revokedAt: at } }),
};
