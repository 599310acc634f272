import { describe, expect, it } from 'vitest';
import { SeededRng } from '../../core/domain/seeded-rng.js';
import { EventEngine } from '../engine/event-engine.js';
import { advance } from '../vm/vm-test-kit.js';
import { cloudBehavior, DEFAULT_CLOUD_BEHAVIOR, sampleDuration, sampleExponentialMs } from './cloud-behavior.js';
import { TokenBucket } from './token-bucket.js';

describe('sampleDuration', () => {
  it('returns a fixed duration as is', () => {
    expect(sampleDuration(90_000, new SeededRng('a'))).toBe(90_000);
  });

  it('draws a log-normal with the given median and p95', () => {
    const rng = new SeededRng('lognormal');
    const xs = Array.from({ length: 4000 }, () => sampleDuration({ median: 90_000, p95: 240_000 }, rng)).sort((a, b) => a - b);
    expect(xs[2000]! / 90_000).toBeGreaterThan(0.95);
    expect(xs[2000]! / 90_000).toBeLessThan(1.05);
    expect(xs[3800]! / 240_000).toBeGreaterThan(0.9);
    expect(xs[3800]! / 240_000).toBeLessThan(1.1);
    expect(xs.every((x) => Number.isInteger(x) && x > 0)).toBe(true);
  });

  it('is deterministic for a seed', () => {
    const draw = (seed: string) => Array.from({ length: 5 }, ((r) => () => sampleDuration({ median: 1000, p95: 5000 }, r))(new SeededRng(seed)));
    expect(draw('x')).toEqual(draw('x'));
    expect(draw('x')).not.toEqual(draw('y'));
  });
});

describe('sampleExponentialMs', () => {
  it('has mean 1/rate hours, and Infinity at rate 0', () => {
    const rng = new SeededRng('exp');
    const n = 4000;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += sampleExponentialMs(2, rng);
    expect(sum / n / 1_800_000).toBeGreaterThan(0.95);
    expect(sum / n / 1_800_000).toBeLessThan(1.05);
    expect(sampleExponentialMs(0, rng)).toBe(Infinity);
  });
});

describe('cloudBehavior', () => {
  it('fills defaults, merging spot', () => {
    const b = cloudBehavior({ spot: { interruptionsPerHour: 1, noticeMs: 5 } as never, bootTime: 1 });
    expect(b.bootTime).toBe(1);
    expect(b.spot).toEqual({ interruptionsPerHour: 1, noticeMs: 5 });
    expect(b.shutdownMs).toBe(DEFAULT_CLOUD_BEHAVIOR.shutdownMs);
  });
});

describe('TokenBucket', () => {
  it('allows a burst, then one token per 1/rate seconds, and says when', async () => {
    const engine = new EventEngine(0);
    const b = new TokenBucket(engine, 4, 2);
    expect([b.take(), b.take()]).toEqual([0, 0]);
    expect(b.take()).toBe(250);
    await advance(engine, 100);
    expect(b.take()).toBe(150);
    await advance(engine, 150);
    expect(b.take()).toBe(0);
    await advance(engine, 10_000);
    expect([b.take(), b.take(), b.take()]).toEqual([0, 0, 250]);
  });

  it('rejects a non-positive rate', () => {
    expect(() => new TokenBucket(new EventEngine(0), 0)).toThrow(RangeError);
  });
});
