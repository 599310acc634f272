import seedrandom from 'seedrandom';
import type { Rng } from '../ports/rng.js';

/**
 * The Rng port on seedrandom's ARC4 generator. `fork(name)` seeds a new generator from
 * this one's seed and the name, so streams are independent of each other's consumption.
 */
export class SeededRng implements Rng {
  private readonly gen: seedrandom.PRNG;

  constructor(private readonly seed: string) {
    this.gen = seedrandom(seed);
  }

  next(): number {
    return this.gen();
  }

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.gen() * (hi - lo + 1));
  }

  fork(name: string): Rng {
    return new SeededRng(`${this.seed}/${name}`);
  }
}
