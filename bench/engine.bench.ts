import { SeededRng } from '../core/domain/seeded-rng.js';
import { EventEngine } from '../sim/engine/event-engine.js';
import { measure, perSecond, type Benchmark, type BenchRow } from './benchmark.js';

const DAY_MS = 86_400_000;

/** 1M timers with random delays over a day, all set up front (distinct instants). */
async function randomTimers(count: number, drain: 'microtasks' | 'macrotask'): Promise<BenchRow> {
  const rng = new SeededRng('bench/engine/random');
  const delays = new Float64Array(count);
  for (let i = 0; i < count; i++) delays[i] = Math.floor(rng.next() * DAY_MS);
  const engine = new EventEngine({ drain });
  let fired = 0;
  const fn = () => {
    fired++;
  };
  const setMs = await measure(() => {
    for (let i = 0; i < count; i++) engine.setTimer(delays[i]!, fn);
  });
  const runMs = await measure(() => engine.run());
  if (fired !== count) throw new Error(`engine benchmark: fired ${fired} of ${count} timers`);
  return {
    case: `${count / 1e6}M random timers (${drain} drain)`,
    figures: { 'events/s': perSecond(count, setMs + runMs), 'set ms': setMs, 'run ms': runMs },
  };
}

/**
 * The shape of worker probes: `vms` VMs each re-arming a `periodMs` timer from its callback,
 * phases spread over the period, for `horizonMs` of simulated time.
 */
async function periodicTimers(vms: number, periodMs: number, horizonMs: number): Promise<BenchRow> {
  const rng = new SeededRng('bench/engine/periodic');
  const engine = new EventEngine();
  let fired = 0;
  for (let v = 0; v < vms; v++) {
    const probe = () => {
      fired++;
      engine.setTimer(periodMs, probe);
    };
    engine.setTimer(Math.floor(rng.next() * periodMs), probe);
  }
  const ms = await measure(() => engine.run({ horizon: horizonMs }));
  return {
    case: `${vms} VMs x ${periodMs / 1000}s probe, ${horizonMs / 3_600_000}h`,
    figures: { 'events/s': perSecond(fired, ms), events: fired, 'wall ms': ms },
  };
}

/** Async actors: each loops `await clock.sleep(random)`, so every event resumes a promise chain. */
async function asyncSleepers(actors: number, sleepsEach: number): Promise<BenchRow> {
  const rng = new SeededRng('bench/engine/sleepers');
  const engine = new EventEngine();
  let done = 0;
  for (let a = 0; a < actors; a++) {
    const r = rng.fork(String(a));
    void (async () => {
      for (let i = 0; i < sleepsEach; i++) {
        await engine.sleep(1 + Math.floor(r.next() * 60_000));
        done++;
      }
    })();
  }
  const ms = await measure(() => engine.run());
  if (done !== actors * sleepsEach) throw new Error(`engine benchmark: ${done} of ${actors * sleepsEach} sleeps finished`);
  return { case: `${actors} async actors x ${sleepsEach} sleeps`, figures: { 'events/s': perSecond(done, ms), 'wall ms': ms } };
}

export const benchmarks: Benchmark[] = [
  {
    name: 'engine',
    description: 'virtual-clock timer events per second (sim/engine/event-engine.ts)',
    run: async () => [
      await randomTimers(1_000_000, 'microtasks'),
      await randomTimers(1_000_000, 'macrotask'),
      await periodicTimers(10_000, 10_000, 3_600_000),
      await asyncSleepers(1_000, 200),
    ],
  },
];
