// Device spaces as Core scripts see them. mockiron has one space, the global one, to which every
// device belongs (devices carry adminDeviceSpaceId=1) and every admin, viewers included, is
// assigned; delegated administration (more spaces, per-space roles) is not modelled.
import { requireRead, type Actor } from '../platform/auth/actor.js';

/** The global space: Core's id 1, named "Global". */
export const globalSpace = { id: 1, name: 'Global', path: '/Global' } as const;

/** A searchable device field, as the devices capability lists it (GET /devices/search_fields). */
export interface SpaceField {
  name: string;
  type: string;
  description?: string;
  values?: string[];
}

/**
 * What spaces need of devices: how many there are, and which fields they can be searched by.
 * The devices capability provides it (wired in src/app/services.ts), so the field catalogue
 * has one owner.
 */
export interface SpaceDevices {
  count(actor: Actor): Promise<number>;
  searchFields(actor: Actor): Promise<SpaceField[]>;
}

export interface DeviceSpace {
  id: number;
  name: string;
  path: string;
  parentId: number | null;
  /** The criteria that put devices in the space; the global space has none (every device). */
  criteria: string | null;
  deviceCount: number;
}

export class DeviceSpaceService {
  constructor(private readonly devices: SpaceDevices) {}

  /** The spaces the caller administers. */
  async mine(actor: Actor): Promise<DeviceSpace[]> {
    return [await this.global(actor, true)];
  }

  /** Every space; with excludeDeviceCount, Core answers deviceCount 0 rather than counting. */
  async list(actor: Actor, options: { excludeDeviceCount: boolean }): Promise<DeviceSpace[]> {
    return [await this.global(actor, !options.excludeDeviceCount)];
  }

  /** The device fields admins of a space may search by and ask for: the devices' search fields. */
  criteria(actor: Actor): Promise<SpaceField[]> {
    requireRead(actor);
    return this.devices.searchFields(actor);
  }

  private async global(actor: Actor, countDevices: boolean): Promise<DeviceSpace> {
    requireRead(actor);
    return { ...globalSpace, parentId: null, criteria: null, deviceCount: countDevices ? await this.devices.count(actor) : 0 };
  }
}
