// How a device leaves MDM, whoever decided it (CheckOut, the enrollment profile removed, an
// admin's retire, an acknowledged EraseDevice): its status, its queue and its identity, in the
// caller's transaction.
import type { DbTx } from '../platform/db/client.js';
import type { Logger } from '../platform/logger.js';
import type { CommandRecords, DeviceCertificates, DeviceRecords } from './ports.js';

export class Retirement {
  constructor(
    private readonly devices: Pick<DeviceRecords, 'markRetired' | 'markWiped'>,
    private readonly commands: Pick<CommandRecords, 'cancelAllPending'>,
    private readonly certificates: Pick<DeviceCertificates, 'revokeDeviceCertificates'>,
    private readonly logger: Logger,
  ) {}

  async retire(tx: DbTx, device: { id: number; uuid: string }, why: string): Promise<void> {
    await this.devices.markRetired(tx, device.id);
    await this.commands.cancelAllPending(tx, device.id);
    await this.certificates.revokeDeviceCertificates(tx, device.id, why);
    this.logger.info({ deviceUuid: device.uuid, why }, 'device retired');
  }

  async wipe(tx: DbTx, device: { id: number; uuid: string }): Promise<void> {
    await this.devices.markWiped(tx, device.id);
    await this.commands.cancelAllPending(tx, device.id);
    await this.certificates.revokeDeviceCertificates(tx, device.id, 'device wiped');
    this.logger.info({ deviceUuid: device.uuid }, 'device wiped');
  }
}
