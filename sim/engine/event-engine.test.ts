import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { EventEngine } from './event-engine.js';

/**
 * A deliberately naive reference clock: a list scanned for the smallest (time, seq). The
 * engine must fire exactly what this fires, in the same order.
 */
class NaiveClock {
  time = 0;
  private seq = 0;
  private readonly q: { t: number; s: number; fn: () => void; cancelled: boolean }[] = [];

  setTimer(delay: number, fn: () => void): { cancel(): void } {
    const e = { t: this.time + (delay > 0 ? delay : 0), s: this.seq++, fn, cancelled: false };
    this.q.push(e);
    return { cancel: () => void (e.cancelled = true) };
  }

  run(): void {
    while (this.q.length > 0) {
      let best = 0;
      for (let i = 1; i < this.q.length; i++) {
        const a = this.q[i]!;
        const b = this.q[best]!;
        if (a.t < b.t || (a.t === b.t && a.s < b.s)) best = i;
      }
      const e = this.q.splice(best, 1)[0]!;
      this.time = e.t;
      if (!e.cancelled) e.fn();
    }
  }
}

interface Clockish {
  setTimer(delay: number, fn: () => void): { cancel(): void };
}

/**
 * A timer plan, flat: node i is set up front when `parent` is null, else by node `parent`'s
 * callback (parent < i). A firing node logs itself, cancels handle `cancel` (modulo the
 * handles set so far) and sets its children.
 */
interface PlanNode {
  delay: number;
  cancel: number | null;
  parent: number | null;
}

const delayArb = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 1000 }));
const planArb = fc
  .array(fc.record({ delay: delayArb, cancel: fc.option(fc.nat(), { nil: null }), parent: fc.option(fc.nat(), { nil: null }) }), {
    maxLength: 120,
  })
  .map((nodes) => nodes.map((n, i) => ({ ...n, parent: n.parent === null || i === 0 ? null : n.parent % i })));

function runPlan(clock: Clockish, now: () => number, plan: PlanNode[]): string[] {
  const log: string[] = [];
  const handles: { cancel(): void }[] = [];
  const children = plan.map((_, i) => plan.flatMap((n, j) => (n.parent === i ? [j] : [])));
  const schedule = (i: number) => {
    const n = plan[i]!;
    handles.push(
      clock.setTimer(n.delay, () => {
        log.push(`${i}@${now()}`);
        if (n.cancel !== null) handles[n.cancel % handles.length]!.cancel();
        for (const c of children[i]!) schedule(c);
      }),
    );
  };
  plan.forEach((n, i) => n.parent === null && schedule(i));
  return log;
}

describe('EventEngine', () => {
  it('fires exactly what a naive reference clock fires, in the same order (property)', async () => {
    await fc.assert(
      fc.asyncProperty(planArb, async (plan) => {
        const naive = new NaiveClock();
        const expected = runPlan(naive, () => naive.time, plan);
        naive.run();
        const engine = new EventEngine();
        const got = runPlan(engine, () => engine.now(), plan);
        const res = await engine.run();
        expect(got).toEqual(expected);
        expect(res.events).toBe(expected.length);
        expect(engine.pending()).toBe(0);
      }),
      { numRuns: 150 },
    );
  });

  it('fires in time order, ties in insertion order; cancelled timers never fire; time never goes back (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ delay: fc.integer({ min: -5, max: 200 }), cancelled: fc.boolean() }), { maxLength: 300 }),
        async (specs) => {
          const engine = new EventEngine({ startMs: 1000 });
          const fired: { i: number; t: number }[] = [];
          const timers = specs.map((s, i) => engine.setTimer(s.delay, () => fired.push({ i, t: engine.now() })));
          specs.forEach((s, i) => s.cancelled && timers[i]!.cancel());
          const live = specs.filter((s) => !s.cancelled).length;
          expect(engine.pending()).toBe(live);
          await engine.run();
          const expected = specs
            .map((s, i) => ({ i, t: 1000 + Math.max(s.delay, 0), c: s.cancelled }))
            .filter((x) => !x.c)
            .sort((a, b) => a.t - b.t || a.i - b.i)
            .map(({ i, t }) => ({ i, t }));
          expect(fired).toEqual(expected);
          expect(engine.pending()).toBe(0);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('stops at the horizon, leaves the clock there, and resumes later (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 100 }),
        fc.integer({ min: 0, max: 1200 }),
        async (delays, horizon) => {
          const engine = new EventEngine();
          const fired: number[] = [];
          delays.forEach((d) => engine.setTimer(d, () => fired.push(d)));
          const res = await engine.run({ horizon });
          const due = delays.filter((d) => d <= horizon).sort((a, b) => a - b);
          expect(fired).toEqual(due);
          const later = delays.length - due.length;
          expect(engine.pending()).toBe(later);
          if (later > 0) {
            expect(res.reason).toBe('horizon');
            expect(engine.now()).toBe(horizon);
          } else {
            expect(res.reason).toBe('idle');
          }
          await engine.run();
          expect(fired).toEqual([...delays].sort((a, b) => a - b));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('finishes async chains started by a callback before time advances (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ delay: fc.integer({ min: 0, max: 50 }), awaits: fc.integer({ min: 1, max: 40 }) }), {
          minLength: 1,
          maxLength: 20,
        }),
        async (specs) => {
          const engine = new EventEngine();
          const doneAt: number[] = [];
          const violations: string[] = [];
          specs.forEach((s, i) => {
            engine.setTimer(s.delay, () => {
              const startedAt = engine.now();
              void (async () => {
                for (let k = 0; k < s.awaits; k++) {
                  await Promise.resolve(k);
                  if (k % 7 === 3) await (async () => (await Promise.resolve(), k))();
                }
                if (engine.now() !== startedAt) violations.push(`chain ${i} ended at ${engine.now()}`);
                doneAt[i] = engine.now();
              })();
            });
          });
          await engine.run();
          expect(violations).toEqual([]);
          expect(doneAt).toEqual(specs.map((s) => s.delay));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('runs timers that async continuations set for the current instant before moving on', async () => {
    const engine = new EventEngine();
    const log: string[] = [];
    engine.setTimer(10, () => {
      void (async () => {
        await Promise.resolve();
        await engine.sleep(0);
        log.push(`slept@${engine.now()}`);
        engine.setTimer(0, () => log.push(`zero@${engine.now()}`));
      })();
    });
    engine.setTimer(11, () => log.push(`next@${engine.now()}`));
    await engine.run();
    expect(log).toEqual(['slept@10', 'zero@10', 'next@11']);
  });

  it('keeps time from advancing while a hold is outstanding', async () => {
    const engine = new EventEngine();
    const log: string[] = [];
    engine.setTimer(5, () => {
      const release = engine.hold();
      // Real I/O stand-in: completes after a real-time delay.
      setTimeout(() => {
        log.push(`io done@${engine.now()}`);
        engine.setTimer(1, () => log.push(`reply@${engine.now()}`));
        release();
        release(); // a second call does nothing
      }, 5);
    });
    engine.setTimer(6, () => log.push(`other@${engine.now()}`));
    await engine.run();
    // The reply set at 5 (+1) and the other timer set at 0 (+6) tie at 6: insertion order.
    expect(log).toEqual(['io done@5', 'other@6', 'reply@6']);
  });

  it('lets concurrent settle() calls all resolve when holds are released', async () => {
    const engine = new EventEngine();
    const release = engine.hold();
    let settled = 0;
    const a = engine.settle().then(() => settled++);
    const b = engine.settle().then(() => settled++);
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(0);
    release();
    await Promise.all([a, b]);
    expect(settled).toBe(2);
  });

  it('sleep: resolves at its time; aborting cancels the timer and rejects with the reason', async () => {
    const engine = new EventEngine();
    const ac = new AbortController();
    const log: string[] = [];
    const slept = engine.sleep(100, ac.signal).then(
      () => log.push(`resolved@${engine.now()}`),
      (e: unknown) => log.push(`rejected ${String(e)}@${engine.now()}`),
    );
    void engine.sleep(30).then(() => log.push(`short@${engine.now()}`));
    engine.setTimer(50, () => ac.abort('stop it'));
    expect(engine.pending()).toBe(3);
    await engine.run();
    await slept;
    expect(log).toEqual(['short@30', 'rejected stop it@50']);
    expect(engine.now()).toBe(50);
    expect(engine.pending()).toBe(0);

    const aborted = AbortSignal.abort('already');
    await expect(engine.sleep(10, aborted)).rejects.toBe('already');
    expect(engine.pending()).toBe(0);

    const ok = new AbortController();
    const p = engine.sleep(10, ok.signal);
    await engine.run();
    await expect(p).resolves.toBeUndefined();
    ok.abort('too late'); // no effect after the timer fired
  });

  it('treats negative and NaN delays as 0 and never fires an infinite one', async () => {
    const engine = new EventEngine({ startMs: 7 });
    const log: string[] = [];
    engine.setTimer(-3, () => log.push('neg'));
    engine.setTimer(Number.NaN, () => log.push('nan'));
    const never = engine.setTimer(Infinity, () => log.push('never'));
    expect(engine.pending()).toBe(2);
    never.cancel();
    expect(engine.pending()).toBe(2);
    const res = await engine.run();
    expect(log).toEqual(['neg', 'nan']);
    expect(res).toEqual({ reason: 'idle', events: 2 });
    expect(engine.now()).toBe(7);
  });

  it('stop() returns before the next timer; run() resumes where it stopped', async () => {
    const engine = new EventEngine();
    const log: number[] = [];
    for (let i = 0; i < 5; i++) engine.setTimer(10, () => {
      log.push(i);
      if (i === 1) engine.stop();
    });
    expect((await engine.run()).reason).toBe('stopped');
    expect(log).toEqual([0, 1]);
    expect(engine.nextTime()).toBe(10);
    expect((await engine.run()).reason).toBe('idle');
    expect(log).toEqual([0, 1, 2, 3, 4]);
  });

  it('refuses a second concurrent run', async () => {
    const engine = new EventEngine();
    engine.setTimer(1, () => {});
    const first = engine.run();
    await expect(engine.run()).rejects.toThrow(/already running/);
    await first;
  });

  it('keeps order and pending() right when most timers are cancelled (heap compaction)', async () => {
    const engine = new EventEngine();
    const fired: number[] = [];
    const timers = [];
    for (let i = 0; i < 10_000; i++) {
      const t = (i * 7919) % 10_007;
      timers.push(engine.setTimer(t, () => fired.push(t)));
    }
    for (let i = 0; i < 10_000; i++) if (i % 10 !== 0) timers[i]!.cancel();
    expect(engine.pending()).toBe(1000);
    expect(engine.nextTime()).toBe(0);
    await engine.run();
    const expected = Array.from({ length: 1000 }, (_, k) => (k * 10 * 7919) % 10_007).sort((a, b) => a - b);
    expect(fired).toEqual(expected);
  });

  it('yields to the event loop during a long run (macrotask drain mode too)', async () => {
    for (const drain of ['microtasks', 'macrotask'] as const) {
      const engine = new EventEngine({ drain });
      let n = 0;
      const tick = () => {
        n++;
        if (n < 10_000) engine.setTimer(1, tick);
      };
      engine.setTimer(1, tick);
      let immediates = 0;
      const spin = () => {
        immediates++;
        if (n < 10_000) setImmediate(spin);
      };
      setImmediate(spin);
      await engine.run();
      expect(n).toBe(10_000);
      expect(engine.now()).toBe(10_000);
      expect(immediates).toBeGreaterThan(1);
    }
  });
});

describe('EventEngine far-timer buckets', () => {
  // Narrow buckets put most timers of these plans in buckets, so moving them into the heap
  // (in time, with their order kept) is what the properties check.
  it('fires exactly what the naive reference clock fires with narrow buckets (property)', async () => {
    await fc.assert(
      fc.asyncProperty(planArb, fc.integer({ min: 1, max: 50 }), async (plan, width) => {
        const naive = new NaiveClock();
        const expected = runPlan(naive, () => naive.time, plan);
        naive.run();
        const engine = new EventEngine({ farBucketMs: width });
        const got = runPlan(engine, () => engine.now(), plan);
        const res = await engine.run();
        expect(got).toEqual(expected);
        expect(res.events).toBe(expected.length);
        expect(engine.pending()).toBe(0);
      }),
      { numRuns: 150 },
    );
  });

  it('stops at a horizon between buckets and resumes in order, with timers set meanwhile (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 100 }),
        fc.integer({ min: 0, max: 1200 }),
        fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 20 }),
        async (delays, horizon, after) => {
          const engine = new EventEngine({ farBucketMs: 7 });
          const fired: number[] = [];
          delays.forEach((d) => engine.setTimer(d + 0.5, () => fired.push(d + 0.5)));
          await engine.run({ horizon: horizon + 0.25 });
          expect(fired).toEqual(delays.filter((d) => d < horizon).sort((a, b) => a - b).map((d) => d + 0.5));
          const now = engine.now();
          after.forEach((d) => engine.setTimer(d, () => fired.push(now + d)));
          expect(engine.nextTime()).toBe([...delays.filter((d) => d >= horizon).map((d) => d + 0.5), ...after.map((d) => now + d)].sort((a, b) => a - b)[0]);
          await engine.run();
          const all = [...delays.map((d) => d + 0.5), ...after.map((d) => now + d)];
          // Ties between a stopped run's timer and one set after it: the earlier-set fires first.
          expect([...fired].sort((a, b) => a - b)).toEqual(all.sort((a, b) => a - b));
          for (let i = 1; i < fired.length; i++) expect(fired[i]!).toBeGreaterThanOrEqual(fired[i - 1]!);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('rejects a bucket width that is not a positive finite number', () => {
    expect(() => new EventEngine({ farBucketMs: 0 })).toThrow(/farBucketMs/);
    expect(() => new EventEngine({ farBucketMs: Infinity })).toThrow(/farBucketMs/);
  });
});

describe('EventEngine errors', () => {
  it('rejects run() with a callback error and can run the rest afterwards', async () => {
    const engine = new EventEngine();
    const log: number[] = [];
    engine.setTimer(1, () => log.push(1));
    engine.setTimer(2, () => {
      throw new Error('bug in callback');
    });
    engine.setTimer(3, () => log.push(3));
    await expect(engine.run()).rejects.toThrow('bug in callback');
    expect(engine.now()).toBe(2);
    expect(engine.pending()).toBe(1);
    await expect(engine.run()).resolves.toEqual({ reason: 'idle', events: 1 });
    expect(log).toEqual([1, 3]);
  });

  it('does not fire timers set for the current instant when run with a horizon already passed', async () => {
    const engine = new EventEngine({ startMs: 100 });
    let fired = false;
    engine.setTimer(0, () => (fired = true));
    expect(await engine.run({ horizon: 50 })).toEqual({ reason: 'horizon', events: 0 });
    expect(fired).toBe(false);
    expect(engine.now()).toBe(100);
  });
});

describe('EventEngine holds from continuations', () => {
  it('waits for a hold taken inside an async continuation of a callback', async () => {
    const engine = new EventEngine();
    const log: string[] = [];
    engine.setTimer(5, () => {
      void (async () => {
        await Promise.resolve();
        await Promise.resolve();
        const release = engine.hold();
        await new Promise((r) => setTimeout(r, 3)); // real I/O stand-in
        log.push(`io@${engine.now()}`);
        release();
      })();
    });
    engine.setTimer(6, () => log.push(`next@${engine.now()}`));
    await engine.run();
    expect(log).toEqual(['io@5', 'next@6']);
  });
});
