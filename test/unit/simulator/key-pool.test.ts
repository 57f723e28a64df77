// The simulator's key pool (issue #19: "let the simulator draw device keys from a pool generated
// ahead"): keys made before a run are handed out once each, then keys are made on demand again.
import { createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { pooledKeys, prefillRsaKeys, rsaKey } from '../../../src/simulator/key-pool.js';

const fingerprint = (key: Awaited<ReturnType<typeof rsaKey>>) =>
  createPublicKey(key).export({ type: 'spki', format: 'der' }).toString('base64');

describe('simulator key pool', () => {
  it('hands out each prefilled key once, then makes fresh ones', async () => {
    const seconds = await prefillRsaKeys(3, 1024);
    expect(seconds).toBeGreaterThan(0);
    expect(pooledKeys(1024)).toBe(3);
    const keys = [await rsaKey(1024), await rsaKey(1024), await rsaKey(1024)];
    expect(pooledKeys(1024)).toBe(0);
    const fresh = await rsaKey(1024);
    const all = new Set([...keys, fresh].map(fingerprint));
    expect(all.size).toBe(4);
    for (const k of [...keys, fresh]) expect(k.asymmetricKeyDetails?.modulusLength).toBe(1024);
  });

  it('keeps sizes apart: a 2048-bit request never gets a pooled 1024-bit key', async () => {
    await prefillRsaKeys(1, 1024);
    const key = await rsaKey(2048);
    expect(key.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(pooledKeys(1024)).toBe(1);
  });
});
