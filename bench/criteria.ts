// Criteria evaluation speed: a compiled 5-clause expression against a hand-written JS
// predicate doing the same comparisons, over 100,000 synthetic devices held in memory.
// Run directly with `npx tsx bench/criteria.ts`.

import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { compileCriteria, type DeviceFacts } from '../src/lib/criteria/index.js';
import { compareParsedVersions, parseVersion } from '../src/lib/versions/compare.js';

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  baseline?: number;
  ratio?: number;
}

const DEVICE_COUNT = 100_000;
const WARMUP_ROUNDS = 5;
const MEASURED_ROUNDS = 15;

type Predicate = (facts: DeviceFacts) => boolean;

interface Case {
  name: string;
  criteria: string;
  handWritten: Predicate;
}

const MIN_VERSION = parseVersion('9.3');
const JAN_2024 = Date.UTC(2024, 0, 1);

const CASES: Case[] = [
  {
    name: 'criteria.eval.ios_ipad_policy',
    criteria:
      'common.platform = "iOS" AND common.os_version >= "9.3" AND common.model contains "iPad" AND common.compliant = true AND common.status != "RETIRED"',
    // What a careful person would write: same case-insensitivity and missing-value rules,
    // constants lower-cased and parsed once.
    handWritten: (d) =>
      d.platform !== '' &&
      d.platform.toLowerCase() === 'ios' &&
      d.osVersion !== null &&
      d.osVersion !== '' &&
      compareParsedVersions(parseVersion(d.osVersion), MIN_VERSION) >= 0 &&
      d.model !== null &&
      d.model !== '' &&
      d.model.toLowerCase().includes('ipad') &&
      d.compliant === true &&
      d.status !== '' &&
      d.status.toLowerCase() !== 'retired',
  },
  {
    // No version clause, so the compiled side gets no help from its parsed-version cache.
    name: 'criteria.eval.owner_vendor_recent',
    criteria:
      'common.owner = COMPANY AND common.manufacturer = "Apple" AND common.registration_date >= 2024-01-01 AND common.id > 1000 AND user.email_address contains "@example"',
    handWritten: (d) =>
      d.owner !== '' &&
      d.owner.toLowerCase() === 'company' &&
      d.manufacturer !== null &&
      d.manufacturer !== '' &&
      d.manufacturer.toLowerCase() === 'apple' &&
      d.registrationDate.getTime() >= JAN_2024 &&
      d.id > 1000 &&
      d.email !== null &&
      d.email !== '' &&
      d.email.toLowerCase().includes('@example'),
  },
];

/** Deterministic PRNG (mulberry32) so every run sees the same devices. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function syntheticDevices(count: number, seed = 42): DeviceFacts[] {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const versions = ['8.4.1', '9.0', '9.2.1', '9.3', '9.3.1', '9.3.5', '10.0.2', '10.3.3', '11.4', '12.5.7', '16.7', '17.4.1'];
  const iosModels = ['iPad4,1', 'iPad Air', 'iPad mini', 'iPhone8,1', 'iPhone 15', 'iPad Pro (12.9-inch)'];
  const androidModels = ['Pixel 8', 'SM-G991B', 'Galaxy Tab S9'];
  const devices: DeviceFacts[] = [];
  for (let i = 0; i < count; i++) {
    const ios = next() < 0.8;
    devices.push({
      id: i + 1,
      uuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      platform: ios ? 'iOS' : 'Android',
      osVersion: next() < 0.02 ? null : ios ? pick(versions) : pick(['12', '13', '14']),
      model: next() < 0.02 ? null : ios ? pick(iosModels) : pick(androidModels),
      manufacturer: ios ? 'Apple' : pick(['Google', 'samsung']),
      serialNumber: `SN${i}`,
      imei: next() < 0.5 ? null : `35693803${String(i).padStart(7, '0')}`,
      owner: next() < 0.7 ? 'COMPANY' : 'EMPLOYEE',
      status: next() < 0.9 ? 'ACTIVE' : pick(['RETIRED', 'WIPED', 'LOST', 'VERIFICATION_PENDING']),
      compliant: next() < 0.85,
      quarantined: next() < 0.05,
      registrationDate: new Date(Date.UTC(2023, 0, 1) + Math.floor(next() * 730) * 86_400_000),
      lastConnectedAt: next() < 0.1 ? null : new Date(Date.UTC(2024, 0, 1) + Math.floor(next() * 200) * 86_400_000),
      deviceName: `Device ${i}`,
      udid: ios ? `00008020-${String(i).padStart(16, '0')}` : null,
      userId: `user${i % 5000}`,
      email: next() < 0.05 ? null : `user${i % 5000}@${next() < 0.8 ? 'example.com' : 'corp.test'}`,
      displayName: `User ${i % 5000}`,
      adminDeviceSpaceId: 1,
      wifiMac: null,
      ipAddress: null,
      phoneNumber: null,
      mdmEnrolled: true,
      info: {},
      security: {},
      custom: next() < 0.3 ? { costCenter: pick(['R&D', 'Sales', 'Ops']) } : {},
    });
  }
  return devices;
}

/**
 * A separate loop function per predicate, so each call site inside stays monomorphic and
 * neither side pays for the other's type feedback.
 */
function makeCounter(): (predicate: Predicate, devices: DeviceFacts[]) => number {
  return new Function(
    'predicate',
    'devices',
    'let n = 0; for (let i = 0; i < devices.length; i++) if (predicate(devices[i])) n++; return n;',
  ) as (predicate: Predicate, devices: DeviceFacts[]) => number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function measure(cases: Case, devices: DeviceFacts[]): BenchResult {
  const compiled = compileCriteria(cases.criteria);
  const countCompiled = makeCounter();
  const countHand = makeCounter();

  const expected = countHand(cases.handWritten, devices);
  const actual = countCompiled(compiled, devices);
  if (actual !== expected) {
    throw new Error(`${cases.name}: compiled criteria matched ${actual} devices, hand-written ${expected}`);
  }

  for (let i = 0; i < WARMUP_ROUNDS; i++) {
    countCompiled(compiled, devices);
    countHand(cases.handWritten, devices);
  }
  // Interleave the two so drift (thermal, GC, other load) hits both alike.
  const compiledTimes: number[] = [];
  const handTimes: number[] = [];
  for (let i = 0; i < MEASURED_ROUNDS; i++) {
    let start = performance.now();
    countCompiled(compiled, devices);
    compiledTimes.push(performance.now() - start);
    start = performance.now();
    countHand(cases.handWritten, devices);
    handTimes.push(performance.now() - start);
  }
  const compiledRate = devices.length / (median(compiledTimes) / 1000);
  const handRate = devices.length / (median(handTimes) / 1000);
  return {
    name: cases.name,
    value: Math.round(compiledRate),
    unit: 'evals/s',
    baseline: Math.round(handRate),
    ratio: Number((compiledRate / handRate).toFixed(3)),
  };
}

function measureCompile(criteria: string): BenchResult {
  const iterations = 20_000;
  for (let i = 0; i < 2_000; i++) compileCriteria(criteria);
  const start = performance.now();
  for (let i = 0; i < iterations; i++) compileCriteria(criteria);
  const seconds = (performance.now() - start) / 1000;
  return { name: 'criteria.parse_and_compile', value: Math.round(iterations / seconds), unit: 'compiles/s' };
}

export async function benchCriteriaEval(): Promise<BenchResult[]> {
  const devices = syntheticDevices(DEVICE_COUNT);
  const results = CASES.map((c) => measure(c, devices));
  results.push(measureCompile(CASES[0]!.criteria));
  return results;
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  for (const result of await benchCriteriaEval()) {
    const versus =
      result.baseline === undefined
        ? ''
        : `  (hand-written ${result.baseline.toLocaleString('en-US')} ${result.unit}, ratio ${result.ratio})`;
    console.log(`${result.name}: ${result.value.toLocaleString('en-US')} ${result.unit}${versus}`);
  }
}
