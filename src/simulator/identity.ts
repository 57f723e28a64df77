// Who a virtual device is: UDID, serial number, hardware model, OS version and name, derived from
// a fleet seed and the device's index so that the same seed always yields the same devices (a
// resumed or re-run fleet enrolls as the same hardware, not as new devices).

import { derive } from './random.js';

export interface DeviceIdentity {
  index: number;
  /** 40 lower-case hex characters, like a pre-iPhone XS UDID. */
  udid: string;
  /** 12 characters from Apple's serial alphabet. */
  serialNumber: string;
  /** Hardware id, e.g. "iPad4,1". */
  productName: string;
  /** Marketing family: "iPad", "iPhone" or "iPod touch". */
  modelName: string;
  /** Order number, e.g. "MD785LL/A". */
  model: string;
  /** e.g. "9.3.1". */
  osVersion: string;
  /** e.g. "13E238". */
  buildVersion: string;
  deviceName: string;
  /** Cellular models only. */
  imei?: string;
  /** MAC addresses, colon-separated lower-case hex. */
  wifiMac: string;
  bluetoothMac: string;
  /** GB. */
  capacityGb: number;
}

export interface ModelChoice {
  productName: string;
  osVersion: string;
}

interface HardwareModel {
  modelName: string;
  model: string;
  displayName: string;
  cellular: boolean;
  capacityGb: number;
}

// A few real models; anything else is accepted and described generically.
const HARDWARE: Readonly<Record<string, HardwareModel>> = {
  'iPad4,1': { modelName: 'iPad', model: 'MD785LL/A', displayName: 'iPad Air', cellular: false, capacityGb: 16 },
  'iPad4,2': { modelName: 'iPad', model: 'MD794LL/A', displayName: 'iPad Air', cellular: true, capacityGb: 16 },
  'iPad13,1': { modelName: 'iPad', model: 'MYFM2LL/A', displayName: 'iPad Air (4th generation)', cellular: false, capacityGb: 64 },
  'iPhone7,2': { modelName: 'iPhone', model: 'MG4F2LL/A', displayName: 'iPhone 6', cellular: true, capacityGb: 16 },
  'iPhone8,1': { modelName: 'iPhone', model: 'MKQK2LL/A', displayName: 'iPhone 6s', cellular: true, capacityGb: 64 },
  'iPhone10,4': { modelName: 'iPhone', model: 'MQ6K2LL/A', displayName: 'iPhone 8', cellular: true, capacityGb: 64 },
  'iPhone12,1': { modelName: 'iPhone', model: 'MWL72LL/A', displayName: 'iPhone 11', cellular: true, capacityGb: 128 },
  'iPhone14,5': { modelName: 'iPhone', model: 'MLMF3LL/A', displayName: 'iPhone 13', cellular: true, capacityGb: 128 },
  'iPod7,1': { modelName: 'iPod touch', model: 'MKH22LL/A', displayName: 'iPod touch', cellular: false, capacityGb: 32 },
};

// Real build numbers of the versions people test with; others get a plausible synthetic build.
const BUILDS: Readonly<Record<string, string>> = {
  '9.3.1': '13E238',
  '9.3.5': '13G36',
  '10.3.3': '14G60',
  '11.4.1': '15G77',
  '12.5.7': '16H81',
  '13.7': '17H35',
  '14.8.1': '18H107',
  '15.8': '19H370',
  '16.7.8': '20H343',
  '17.5.1': '21F90',
  '18.1': '22B83',
};

export const DEFAULT_MODEL_MIX: readonly ModelChoice[] = [
  { productName: 'iPad4,1', osVersion: '9.3.1' },
  { productName: 'iPhone8,1', osVersion: '10.3.3' },
  { productName: 'iPhone12,1', osVersion: '16.7.8' },
];

export class ModelMixError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelMixError';
  }
}

/** Parses "iPad4,1:9.3.1,iPhone8,1:10.3.3": product names contain commas, so entries split at "digit:". */
export function parseModelMix(text: string): ModelChoice[] {
  const entries = [...text.matchAll(/\s*([A-Za-z]+\d+,\d+)\s*:\s*(\d+(?:\.\d+){0,2})\s*(?:,|$)/gy)];
  const consumed = entries.reduce((n, m) => n + m[0].length, 0);
  if (entries.length === 0 || consumed !== text.length) {
    throw new ModelMixError(`--models must look like "iPad4,1:9.3.1,iPhone8,1:10.3.3" (product:version, comma-separated), got "${text}"`);
  }
  return entries.map((m) => ({ productName: m[1]!, osVersion: m[2]! }));
}

/** The build for an OS version: the real one when known, else derived from the version. */
export function buildVersionFor(osVersion: string): string {
  const known = BUILDS[osVersion];
  if (known) return known;
  const [major = '0', minor = '0', patch = '0'] = osVersion.split('.');
  // iOS N builds start at N+4 ("9.x" → "13..."); the letter follows the minor release
  return `${Number(major) + 4}${String.fromCharCode(65 + (Number(minor) % 26))}${100 + Number(patch)}`;
}

function hardwareFor(productName: string, hash: Buffer): HardwareModel {
  const known = HARDWARE[productName];
  if (known) return known;
  const modelName = productName.startsWith('iPad') ? 'iPad' : productName.startsWith('iPod') ? 'iPod touch' : 'iPhone';
  return {
    modelName,
    model: `M${hash.toString('hex').slice(0, 4).toUpperCase()}LL/A`,
    displayName: modelName,
    cellular: modelName === 'iPhone',
    capacityGb: 64,
  };
}

// Apple serials avoid vowels and look-alike characters
const SERIAL_ALPHABET = 'BCDFGHJKLMNPQRSTVWXYZ0123456789';

function serialFrom(hash: Buffer): string {
  let serial = '';
  for (let i = 0; i < 12; i++) serial += SERIAL_ALPHABET[hash[i]! % SERIAL_ALPHABET.length];
  return serial;
}

/** 15 digits with a valid Luhn check digit, starting with a real Apple TAC prefix. */
function imeiFrom(hash: Buffer): string {
  let body = '35';
  for (let i = 0; body.length < 14; i++) body += String(hash[i]! % 10);
  let sum = 0;
  for (let i = 0; i < 14; i++) {
    let digit = Number(body[i]);
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return body + String((10 - (sum % 10)) % 10);
}

function macFrom(hash: Buffer, offset: number): string {
  const bytes = [...hash.subarray(offset, offset + 6)];
  // Locally administered unicast, so it never collides with a real vendor's address
  bytes[0] = (bytes[0]! & 0xfc) | 0x02;
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** The identity of device `index` in the fleet seeded with `seed`; the model is picked round-robin from `mix`. */
export function deriveIdentity(seed: string, index: number, mix: readonly ModelChoice[] = DEFAULT_MODEL_MIX): DeviceIdentity {
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`device index must be a non-negative integer, got ${index}`);
  if (mix.length === 0) throw new ModelMixError('the model mix is empty');
  const choice = mix[index % mix.length]!;
  const hash = derive('device', seed, index);
  const hardware = hardwareFor(choice.productName, derive('model', choice.productName));
  const identity: DeviceIdentity = {
    index,
    udid: derive('udid', seed, index).subarray(0, 20).toString('hex'),
    serialNumber: serialFrom(derive('serial', seed, index)),
    productName: choice.productName,
    modelName: hardware.modelName,
    model: hardware.model,
    osVersion: choice.osVersion,
    buildVersion: buildVersionFor(choice.osVersion),
    deviceName: `${hardware.displayName} ${index + 1}`,
    wifiMac: macFrom(hash, 0),
    bluetoothMac: macFrom(hash, 6),
    capacityGb: hardware.capacityGb,
  };
  if (hardware.cellular) identity.imei = imeiFrom(derive('imei', seed, index));
  return identity;
}
