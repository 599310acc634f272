import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { SeededRng } from '../../core/domain/seeded-rng.js';
import { readDist, sampleBool, sampleChoice, sampleDist, samplePriority, type Choice } from './distributions.js';

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

describe('workload distributions', () => {
  it('log-normal draws match the median and p95 they were given', () => {
    const d = readDist({ median: '20m', p95: '2h' }, 'runtime');
    const rng = new SeededRng('lognormal');
    const xs = Array.from({ length: 20_000 }, () => sampleDist(d, rng)).sort((a, b) => a - b);
    expect(quantile(xs, 0.5) / 1_200_000).toBeCloseTo(1, 1);
    expect(quantile(xs, 0.95) / 7_200_000).toBeCloseTo(1, 1);
    expect(xs.every((x) => Number.isInteger(x) && x >= 0)).toBe(true);
  });

  it('fixed values draw nothing from the rng', () => {
    const a = new SeededRng('s');
    const b = new SeededRng('s');
    expect(sampleDist(readDist('90s', 'x'), a)).toBe(90_000);
    expect(sampleChoice({ kind: 'fixed', value: 3 }, a)).toBe(3);
    expect(samplePriority({ lo: 7n, hi: 7n }, a)).toBe(7n);
    expect(sampleBool(0, a) || !sampleBool(1, a)).toBe(false);
    expect(a.next()).toBe(b.next());
  });

  it('weighted choices follow their weights and never pick a zero weight', () => {
    const c: Choice<string> = { kind: 'weighted', values: ['a', 'b', 'never'], weights: [3, 1, 0] };
    const rng = new SeededRng('weights');
    const counts: Record<string, number> = {};
    for (let i = 0; i < 8000; i++) {
      const v = sampleChoice(c, rng);
      counts[v] = (counts[v] ?? 0) + 1;
    }
    expect(counts.never).toBeUndefined();
    expect(counts.a! / 8000).toBeCloseTo(0.75, 1);
  });

  it('uniform choices and priorities stay in range (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer(), { minLength: 1, maxLength: 8 }),
        fc.bigInt({ min: 1n, max: 10n ** 18n }),
        fc.bigInt({ min: 0n, max: 10n ** 18n }),
        fc.string(),
        (values, lo, width, seed) => {
          const rng = new SeededRng(seed);
          const hi = lo + width;
          for (let i = 0; i < 20; i++) {
            expect(values).toContain(sampleChoice({ kind: 'uniform', values }, rng));
            const p = samplePriority({ lo, hi }, rng);
            expect(p >= lo && p <= hi).toBe(true);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('preemptible probability is honoured', () => {
    const rng = new SeededRng('p');
    let n = 0;
    for (let i = 0; i < 10_000; i++) if (sampleBool(0.3, rng)) n++;
    expect(n / 10_000).toBeCloseTo(0.3, 1);
  });
});
