// Deterministic randomness for the simulator: the same seed gives the same fleet (identities) and
// the same sequence of NotNow decisions, so a benchmark or a failing test can be replayed.

import { createHash } from 'node:crypto';

/** Hex SHA-256 of the parts joined with ':'; the root of every derived identity value. */
export function derive(...parts: (string | number)[]): Buffer {
  return createHash('sha256').update(parts.join(':')).digest();
}

/** A small seeded PRNG (mulberry32) returning floats in [0, 1). Its position can be saved and restored. */
export class SeededRandom {
  #state: number;

  constructor(seed: string | number) {
    this.#state = typeof seed === 'number' ? seed >>> 0 : derive('rng', seed).readUInt32BE(0);
  }

  /** The internal state, to persist and pass back to `SeededRandom.fromState`. */
  get state(): number {
    return this.#state;
  }

  static fromState(state: number): SeededRandom {
    return new SeededRandom(state >>> 0);
  }

  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** True with probability `rate` (0 never draws: rate 0 does not advance the sequence). */
  chance(rate: number): boolean {
    if (rate <= 0) return false;
    if (rate >= 1) return true;
    return this.next() < rate;
  }
}
