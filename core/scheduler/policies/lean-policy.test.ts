// The lean policy's shutdown rules and its arrival window, on small hand-made passes.
import { describe, expect, it } from 'vitest';
import { instanceType, makeContainer, testCluster } from '../../../test/fakes/sched-fixtures.js';
import { FakePool } from '../../../test/fakes/sched-pool.js';
import type { Container } from '../../domain/container.js';
import type { QueueEntry, QueueSnapshot } from '../../queue/queue-snapshot.js';
import { SizingCache } from '../../queue/sizing-cache.js';
import { initialSchedulerState, type MapperInput, type SchedulerState } from '../policy.js';
import { advanceWindow, countByType, EMPTY_WINDOW, MAX_ARRIVALS_KEPT } from './arrival-window.js';
import { LEAN_DEFAULTS, planLean, type LeanOptions, type LeanState } from './lean-policy.js';

const NOW = 10_000_000;
const T1 = instanceType(1);
const T2 = instanceType(2);
const NO_WARM: LeanOptions = { ...LEAN_DEFAULTS, warmFactor: 0 };

function queue(ctrs: readonly { c: Container; seen?: number }[]): QueueSnapshot {
  const config = testCluster({ types: [T1, T2] });
  const sizing = new SizingCache(config);
  const entries = new Map<string, QueueEntry>();
  for (const { c, seen } of ctrs) {
    const s = sizing.size(c);
    entries.set(c.uuid, { container: c, resources: s.resources, instanceTypes: s.instanceTypes, firstSeenAt: seen ?? 0 });
  }
  return { entries, updatedAt: NOW };
}

function input(pool: FakePool, ctrs: readonly { c: Container; seen?: number }[], state?: SchedulerState): MapperInput {
  const config = testCluster({ types: [T1, T2], cloudVMs: { MaxInstances: 0 } });
  // A 503 already reacted to, within the quiet period, holds the limit where `state` puts it.
  const last503 = state?.last503Seen ?? 0;
  return { queue: queue(ctrs), pool: pool.snapshot(), config, now: NOW, last503, state: state ?? initialSchedulerState(config) };
}

describe('lean policy: early shutdown', () => {
  it('shuts down idle and booting instances nothing wants, and leaves the rest to the pool', () => {
    const pool = new FakePool();
    const idle = pool.addWorker(T1, 'idle');
    idle.lastBusy = NOW - 5_000;
    const booting = pool.addWorker(T2, 'booting');
    pool.addWorker(T1, 'idle', [], 'hold');
    pool.addWorker(T1, 'running', ['zzzzz-dz642-000000000000099']);
    const plan = planLean(input(pool, [{ c: makeContainer(99, { state: 'Running' }) }]), NO_WARM);
    expect(plan.shutdown).toEqual([idle.id, booting.id].sort());
  });

  it('keeps an instance of a type a waiting container is eligible for', () => {
    const pool = new FakePool();
    pool.addWorker(T1, 'running', [makeContainer(1).uuid]);
    const t1 = pool.addWorker(T1, 'idle');
    const t2 = pool.addWorker(T2, 'idle');
    // Container 2 is over the concurrency limit (1 running, limit 1): it waits, unplaced,
    // and wants type1, its only eligible type; nothing wants type2.
    const ctrs = [{ c: makeContainer(1, { state: 'Running' }) }, { c: makeContainer(2, { state: 'Locked', vcpus: 1 }) }];
    const plan = planLean(input(pool, ctrs, { maxContainers: 1, instancesWithinQuota: 0, last503Seen: NOW - 1000 }), NO_WARM);
    expect(plan.start).toEqual([]);
    expect(plan.shutdown).toEqual([t2.id]);
    expect(plan.shutdown).not.toContain(t1.id);
  });

  it('waits idleGraceFraction x TimeoutIdle before shutting an idle instance down', () => {
    const pool = new FakePool();
    const w = pool.addWorker(T1, 'idle');
    const opts: LeanOptions = { ...NO_WARM, idleGraceFraction: 0.5 };
    w.lastBusy = NOW - 29_000;
    expect(planLean(input(pool, []), opts).shutdown).toEqual([]);
    w.lastBusy = NOW - 30_000;
    expect(planLean(input(pool, []), opts).shutdown).toEqual([w.id]);
  });

  it('does not shut booting instances down when trimBooting is off', () => {
    const pool = new FakePool();
    pool.addWorker(T1, 'booting');
    expect(planLean(input(pool, []), { ...NO_WARM, trimBooting: false }).shutdown).toEqual([]);
  });

  it('keeps a warm reserve sized from recent arrivals, idle before booting, most recently busy first', () => {
    const pool = new FakePool();
    const old = pool.addWorker(T1, 'idle');
    old.lastBusy = NOW - 50_000;
    const recent = pool.addWorker(T1, 'idle');
    recent.lastBusy = NOW - 10_000;
    const booting = pool.addWorker(T1, 'booting');
    // 15 arrivals of type1 in the 15-minute window: 1 per TimeoutIdle (1 min) -> keep 1.
    const done = Array.from({ length: 15 }, (_, i) => ({ c: makeContainer(100 + i, { state: 'Complete' }), seen: NOW - 60_000 * i }));
    const plan = planLean(input(pool, done), LEAN_DEFAULTS);
    expect([...plan.shutdown].sort()).toEqual([old.id, booting.id].sort());
    const state = plan.state as LeanState;
    expect(state.arrivals?.arrivals.length).toBe(15);
    // With 30 arrivals, the reserve is 2.
    const more = Array.from({ length: 30 }, (_, i) => ({ c: makeContainer(200 + i, { state: 'Complete' }), seen: NOW - 30_000 * i }));
    expect(planLean(input(pool, more), LEAN_DEFAULTS).shutdown).toEqual([booting.id]);
  });

  it('with reserveCountsRoom, a running instance with a free VCPU stands in for an idle one', () => {
    const pool = new FakePool();
    pool.addWorker(T2, 'running', [makeContainer(1).uuid]);
    const idle = pool.addWorker(T2, 'idle');
    idle.lastBusy = NOW;
    // 15 arrivals of type2 in the window: a reserve of 1.
    const ctrs = [
      { c: makeContainer(1, { state: 'Running', vcpus: 1 }) },
      ...Array.from({ length: 15 }, (_, i) => ({ c: makeContainer(100 + i, { state: 'Complete', vcpus: 2 }), seen: NOW - 60_000 * i })),
    ];
    expect(planLean(input(pool, ctrs), LEAN_DEFAULTS).shutdown).toEqual([]);
    expect(planLean(input(pool, ctrs), { ...LEAN_DEFAULTS, reserveCountsRoom: true }).shutdown).toEqual([idle.id]);
  });

  it('adds nothing of its own when over quota: the reference already shuts every candidate down', () => {
    const pool = new FakePool();
    pool.quota = 1;
    const w = pool.addWorker(T2, 'idle');
    const plan = planLean(input(pool, [{ c: makeContainer(1, { state: 'Locked', vcpus: 1 }) }]), NO_WARM);
    expect(plan.shutdown).toEqual([w.id]);
  });
});

describe('arrival window', () => {
  it('counts each entry once, by its cheapest type, and forgets arrivals older than the window', () => {
    const q = queue([{ c: makeContainer(1), seen: 1000 }, { c: makeContainer(2, { vcpus: 2 }), seen: 2000 }]);
    const w1 = advanceWindow(EMPTY_WINDOW, q, 3000, 10_000);
    expect(w1.arrivals).toEqual([{ type: 'type1', at: 1000 }, { type: 'type2', at: 2000 }]);
    expect(advanceWindow(w1, q, 4000, 10_000)).toBe(w1);
    const q2 = queue([{ c: makeContainer(1), seen: 1000 }, { c: makeContainer(3), seen: 5000 }]);
    const w2 = advanceWindow(w1, q2, 12_500, 10_000);
    expect(w2.arrivals).toEqual([{ type: 'type1', at: 5000 }]);
    expect(countByType(w2)).toEqual(new Map([['type1', 1]]));
  });

  it('keeps at most MAX_ARRIVALS_KEPT arrivals', () => {
    const many = Array.from({ length: MAX_ARRIVALS_KEPT + 10 }, (_, i) => ({ c: makeContainer(i), seen: i + 1 }));
    const w = advanceWindow(EMPTY_WINDOW, queue(many), MAX_ARRIVALS_KEPT + 20, 1e9);
    expect(w.arrivals.length).toBe(MAX_ARRIVALS_KEPT);
    expect(w.arrivals[0]!.at).toBe(11);
  });
});
