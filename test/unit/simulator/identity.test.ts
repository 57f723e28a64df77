import { describe, expect, it } from 'vitest';
import { buildVersionFor, deriveIdentity, ModelMixError, parseModelMix } from '../../../src/simulator/identity.js';
import { SeededRandom } from '../../../src/simulator/random.js';

function luhnValid(digits: string): boolean {
  let sum = 0;
  [...digits].reverse().forEach((c, i) => {
    let d = Number(c);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  });
  return sum % 10 === 0;
}

describe('deriveIdentity', () => {
  it('is pinned: a state file written by an earlier version must still describe the same devices', () => {
    expect(deriveIdentity('mockiron-simulator', 0)).toMatchObject({
      udid: '5e93c0057932f29e41f2194abc56391247ee490f',
      serialNumber: 'K7K7L50D4D8C',
      productName: 'iPad4,1',
      osVersion: '9.3.1',
      buildVersion: '13E238',
      deviceName: 'iPad Air 1',
    });
    expect(deriveIdentity('mockiron-simulator', 1)).toMatchObject({
      udid: 'c5de22096bea34fa826d2a9e02ec8abc18c894e3',
      imei: '358916969340806',
    });
  });

  it('gives the same device for the same seed and index, and different devices otherwise', () => {
    expect(deriveIdentity('fleet-a', 7)).toEqual(deriveIdentity('fleet-a', 7));
    const udids = new Set(Array.from({ length: 200 }, (_, i) => deriveIdentity('fleet-a', i).udid));
    expect(udids.size).toBe(200);
    const serials = new Set(Array.from({ length: 200 }, (_, i) => deriveIdentity('fleet-a', i).serialNumber));
    expect(serials.size).toBe(200);
    expect(deriveIdentity('fleet-b', 7).udid).not.toBe(deriveIdentity('fleet-a', 7).udid);
  });

  it('has the shapes iOS uses: 40-hex UDID, 12-character serial without vowels, Luhn-valid IMEI on cellular models only', () => {
    for (let i = 0; i < 30; i++) {
      const id = deriveIdentity('shapes', i);
      expect(id.udid).toMatch(/^[0-9a-f]{40}$/);
      expect(id.serialNumber).toMatch(/^[B-DF-HJ-NP-TV-Z0-9]{12}$/);
      expect(id.wifiMac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
      if (id.productName.startsWith('iPhone')) {
        expect(id.imei).toMatch(/^\d{15}$/);
        expect(luhnValid(id.imei!)).toBe(true);
      } else {
        expect(id.imei).toBeUndefined();
      }
    }
  });

  it('cycles through the model mix by index', () => {
    const mix = parseModelMix('iPad4,1:9.3.1,iPhone8,1:10.3.3,iPhone99,9:19.0');
    const products = Array.from({ length: 6 }, (_, i) => deriveIdentity('mix', i, mix)).map(
      (d) => `${d.productName}:${d.osVersion}:${d.modelName}`,
    );
    expect(products).toEqual([
      'iPad4,1:9.3.1:iPad',
      'iPhone8,1:10.3.3:iPhone',
      'iPhone99,9:19.0:iPhone',
      'iPad4,1:9.3.1:iPad',
      'iPhone8,1:10.3.3:iPhone',
      'iPhone99,9:19.0:iPhone',
    ]);
    expect(() => deriveIdentity('mix', 0, [])).toThrow(ModelMixError);
    expect(() => deriveIdentity('mix', -1)).toThrow(RangeError);
  });
});

describe('parseModelMix', () => {
  it('splits product:version pairs although product names contain commas', () => {
    expect(parseModelMix('iPad4,1:9.3.1,iPhone8,1:10.3.3')).toEqual([
      { productName: 'iPad4,1', osVersion: '9.3.1' },
      { productName: 'iPhone8,1', osVersion: '10.3.3' },
    ]);
    expect(parseModelMix('iPhone12,1:16')).toEqual([{ productName: 'iPhone12,1', osVersion: '16' }]);
  });

  it.each(['', 'iPad4,1', 'iPad4,1:', 'iPad:9.3.1', 'iPad4,1:9.3.1;iPhone8,1:10.3.3', 'iPad4,1:nine'])('rejects %j', (text) => {
    expect(() => parseModelMix(text)).toThrow(ModelMixError);
  });
});

describe('buildVersionFor', () => {
  it('knows real builds and makes up plausible ones', () => {
    expect(buildVersionFor('9.3.1')).toBe('13E238');
    expect(buildVersionFor('10.3.3')).toBe('14G60');
    expect(buildVersionFor('15.2')).toMatch(/^19C\d+$/);
  });
});

describe('SeededRandom', () => {
  it('repeats for a seed, stays in [0,1), and resumes from a saved state', () => {
    const a = new SeededRandom('x');
    const b = new SeededRandom('x');
    const seq = Array.from({ length: 50 }, () => a.next());
    expect(Array.from({ length: 50 }, () => b.next())).toEqual(seq);
    expect(seq.every((v) => v >= 0 && v < 1)).toBe(true);
    const c = new SeededRandom('x');
    for (let i = 0; i < 10; i++) c.next();
    const resumed = SeededRandom.fromState(c.state);
    expect(Array.from({ length: 40 }, () => resumed.next())).toEqual(seq.slice(10));
  });
});
