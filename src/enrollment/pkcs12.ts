// A device identity as PKCS#12, built in a worker thread (see pkcs12-worker.mjs for why).
import { Worker } from 'node:worker_threads';

export interface Pkcs12Input {
  keyPem: string;
  /** The device certificate first, then its chain. */
  certificatePems: string[];
  password: string;
  friendlyName: string;
}

export function buildPkcs12(input: Pkcs12Input): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./pkcs12-worker.mjs', import.meta.url), { workerData: input });
    let answered = false;
    worker.once('message', (der: Uint8Array) => {
      answered = true;
      resolve(Buffer.from(der.buffer, der.byteOffset, der.byteLength));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (!answered) reject(new Error(`the PKCS#12 worker stopped (exit code ${code}) without an answer`));
    });
  });
}
