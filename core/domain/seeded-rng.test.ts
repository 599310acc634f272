import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { SeededRng } from './seeded-rng.js';
import type { Rng } from '../ports/rng.js';

const draw = (rng: Rng, n: number) => Array.from({ length: n }, () => rng.next());

describe('SeededRng', () => {
  it('gives the same sequence for the same seed and a different one for another seed', () => {
    expect(draw(new SeededRng('1'), 50)).toEqual(draw(new SeededRng('1'), 50));
    expect(draw(new SeededRng('1'), 50)).not.toEqual(draw(new SeededRng('2'), 50));
  });

  it('draws next() in [0, 1)', () => {
    const rng = new SeededRng('range');
    for (const x of draw(rng, 10_000)) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
    }
  });

  it('fork streams do not depend on how much of the parent or a sibling was consumed (property)', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.nat(200), fc.nat(200), (seed, name, parentDraws, siblingDraws) => {
        const reference = draw(new SeededRng(seed).fork(name), 20);
        const parent = new SeededRng(seed);
        draw(parent, parentDraws);
        const sibling = parent.fork(`${name}-sibling`);
        const fork = parent.fork(name);
        draw(sibling, siblingDraws);
        draw(parent, parentDraws);
        expect(draw(fork, 20)).toEqual(reference);
      }),
      { numRuns: 100 },
    );
  });

  it('gives forks with different names, and nested forks, different streams', () => {
    const root = new SeededRng('7');
    const a = draw(root.fork('workload'), 10);
    expect(draw(root.fork('cloud'), 10)).not.toEqual(a);
    expect(draw(root.fork('workload').fork('0'), 10)).not.toEqual(a);
    expect(draw(root, 10)).not.toEqual(a);
  });

  it('int(lo, hi) stays within bounds, inclusive, and reaches both ends (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: 0, max: 20 }), fc.string(), (lo, width, seed) => {
        const rng = new SeededRng(seed);
        const hi = lo + width;
        const seen = new Set<number>();
        for (let i = 0; i < 400; i++) {
          const v = rng.int(lo, hi);
          expect(Number.isInteger(v)).toBe(true);
          expect(v).toBeGreaterThanOrEqual(lo);
          expect(v).toBeLessThanOrEqual(hi);
          seen.add(v);
        }
        if (width <= 5) expect(seen.size).toBe(width + 1);
      }),
      { numRuns: 100 },
    );
    expect(new SeededRng('x').int(3, 3)).toBe(3);
  });
});
