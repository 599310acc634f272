/* eslint-disable no-restricted-imports -- this test runs the helper on both Clock implementations (virtual and system) to show they agree; core code itself stays port-only. */
import { describe, it, expect } from 'vitest';
import type { Clock } from '../ports/clock.js';
import { NotFoundError, RateLimitError, TransientError } from '../ports/errors.js';
import { SeededRng } from '../domain/seeded-rng.js';
import { EventEngine } from '../../sim/engine/event-engine.js';
import { SystemClock } from '../../prod/system-clock.js';
import { backoffDelay, isRetryable, retry, type RetryOptions } from './retry.js';

interface Trace {
  calls: string[];
  outcome: string;
}

/**
 * One retry scenario: the operation fails with the listed errors in turn, then succeeds.
 * Records what was called, with which delays, and how it ended.
 */
async function scenario(clock: Clock, failures: Error[], opts: RetryOptions, drive: (p: Promise<unknown>) => Promise<void>): Promise<Trace> {
  const calls: string[] = [];
  const p = retry(
    clock,
    (attempt) => {
      calls.push(`attempt ${attempt}`);
      const err = failures[attempt - 1];
      return err === undefined ? Promise.resolve(`ok after ${attempt}`) : Promise.reject(err);
    },
    { ...opts, onRetry: (e, attempt, delay) => calls.push(`retry after ${attempt}: ${(e as Error).name} in ${delay.toFixed(3)}ms`) },
  );
  const outcome = p.then(
    (v) => `resolved ${v}`,
    (e: unknown) => `rejected ${e instanceof Error ? e.message : String(e)}`,
  );
  await drive(p.catch(() => {}));
  return { calls, outcome: await outcome };
}

const virtual = (failures: Error[], opts: RetryOptions) => {
  const engine = new EventEngine();
  return scenario(engine, failures, opts, async () => {
    await engine.run();
  });
};
const real = (failures: Error[], opts: RetryOptions) =>
  scenario(new SystemClock(), failures, opts, async (p) => {
    await p;
  });

describe('retry', () => {
  const cases: [string, Error[], RetryOptions][] = [
    ['succeeds after transient failures', [new TransientError('a'), new TransientError('b'), new TransientError('c')], { initialDelayMs: 1, maxDelayMs: 3, factor: 2 }],
    ['honours a rate limit as the minimum delay', [new RateLimitError('slow down', 4)], { initialDelayMs: 1 }],
    ['gives up at maxAttempts with the last error', [new TransientError('x'), new TransientError('y'), new TransientError('z')], { initialDelayMs: 1, maxAttempts: 2 }],
    ['does not retry what shouldRetry refuses', [new NotFoundError('gone')], { initialDelayMs: 1 }],
    [
      'jitters delays from the rng',
      [new TransientError('a'), new TransientError('b'), new TransientError('c')],
      { initialDelayMs: 2, factor: 1.5, jitter: 0.5, rng: new SeededRng('retry-test') },
    ],
  ];
  for (const [name, failures, opts] of cases) {
    it(`${name}: the same calls and outcome under the virtual and the system clock`, async () => {
      const withRng = (o: RetryOptions): RetryOptions => (o.rng === undefined ? o : { ...o, rng: new SeededRng('retry-test') });
      const v = await virtual(failures, withRng(opts));
      const r = await real(failures, withRng(opts));
      expect(r).toEqual(v);
      expect(v.calls.length).toBeGreaterThan(0);
    });
  }

  it('takes the expected virtual time: delays 1, 2, 3 (capped)', async () => {
    const engine = new EventEngine();
    const t = await scenario(engine, [new TransientError('a'), new TransientError('b'), new TransientError('c')], { initialDelayMs: 1, maxDelayMs: 3 }, async () => {
      await engine.run();
    });
    expect(t.outcome).toBe('resolved ok after 4');
    expect(engine.now()).toBe(6);
    expect(t.calls).toEqual([
      'attempt 1',
      'retry after 1: TransientError in 1.000ms',
      'attempt 2',
      'retry after 2: TransientError in 2.000ms',
      'attempt 3',
      'retry after 3: TransientError in 3.000ms',
      'attempt 4',
    ]);
  });

  it('stops waiting when the signal aborts, with its reason', async () => {
    const engine = new EventEngine();
    const ac = new AbortController();
    let calls = 0;
    const p = retry(
      engine,
      () => {
        calls++;
        return Promise.reject(new TransientError('down'));
      },
      { initialDelayMs: 1000, signal: ac.signal },
    );
    engine.setTimer(2500, () => ac.abort(new Error('shutting down')));
    const settled = p.catch((e: unknown) => e);
    await engine.run();
    expect(((await settled) as Error).message).toBe('shutting down');
    expect(calls).toBe(2); // at 0 and at 1000; the 2000 ms wait was cut short
    expect(engine.now()).toBe(2500);
    await expect(retry(engine, () => Promise.resolve(1), { signal: AbortSignal.abort('no') })).rejects.toBe('no');
  });

  it('validates its options and classifies errors', async () => {
    const engine = new EventEngine();
    await expect(retry(engine, () => Promise.resolve(1), { jitter: 0.5 })).rejects.toThrow(/needs an rng/);
    await expect(retry(engine, () => Promise.resolve(1), { maxAttempts: 0 })).rejects.toThrow(/maxAttempts/);
    expect(isRetryable(new TransientError('t'))).toBe(true);
    expect(isRetryable(new NotFoundError('n'))).toBe(false);
    expect(isRetryable(new Error('plain'))).toBe(false);
    expect([1, 2, 3, 4, 5, 6, 7].map((a) => backoffDelay(a))).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000]);
  });
});
