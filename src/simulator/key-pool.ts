// Device keys made ahead of a run. An RSA-2048 key costs tens of milliseconds of CPU; made while
// devices enroll, on the machine that also runs the server, that work is charged to the server's
// enrollment figures. Each pooled key is still used once, by one device, as a fresh key would be.
import { generateKeyPair, type KeyObject } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { promisify } from 'node:util';

const generateKeyPairAsync = promisify(generateKeyPair);
const pools = new Map<number, KeyObject[]>();

/** A new RSA private key (in the thread pool: it must not stall the other devices). */
function freshRsaKey(modulusLength: number): Promise<KeyObject> {
  return generateKeyPairAsync('rsa', { modulusLength }).then((pair) => pair.privateKey);
}

/** A key from the pool when one of that size is left, else a new one. */
export function rsaKey(modulusLength: number): Promise<KeyObject> {
  const pooled = pools.get(modulusLength)?.pop();
  return pooled ? Promise.resolve(pooled) : freshRsaKey(modulusLength);
}

/** Makes `count` keys now (as many at a time as the machine has cores); returns the seconds it took. */
export async function prefillRsaKeys(count: number, modulusLength = 2048): Promise<number> {
  const started = performance.now();
  const pool = pools.get(modulusLength) ?? [];
  pools.set(modulusLength, pool);
  let left = count;
  const worker = async () => {
    while (left > 0) {
      left--;
      pool.push(await freshRsaKey(modulusLength));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(count, availableParallelism())) }, worker));
  return (performance.now() - started) / 1000;
}

/** Keys of that size still in the pool. */
export function pooledKeys(modulusLength = 2048): number {
  return pools.get(modulusLength)?.length ?? 0;
}
