// The spot-fallback policy on small hand-made passes: when a preemptible container may use
// the on-demand twins of its types, and that everything else is the arvados pass.
import { describe, expect, it } from 'vitest';
import { instanceType, makeContainer, testCluster, typeMap } from '../../../test/fakes/sched-fixtures.js';
import { FakePool } from '../../../test/fakes/sched-pool.js';
import type { ClusterConfig } from '../../config/cluster-config.js';
import { autofillPreemptible } from '../../config/instance-types-config.js';
import type { Container } from '../../domain/container.js';
import type { InstanceType } from '../../domain/instance-type.js';
import type { QueueEntry } from '../../queue/queue-snapshot.js';
import { SizingCache } from '../../queue/sizing-cache.js';
import { planArvados } from '../arvados-policy.js';
import { findPolicy } from '../policies.js';
import { statusWaitingForInstance } from '../statuses.js';
import { initialSchedulerState, type MapperInput, type SchedulerState } from '../policy.js';
import { fallbackView, planSpotFallback, SPOT_FALLBACK_DEFAULTS, withOnDemandTwins, type SpotFallbackOptions, type SpotFallbackState } from './spot-fallback-policy.js';

const NOW = 10_000_000;
const MIN = 60_000;
const T1 = instanceType(1);
const T2 = instanceType(2);
const TYPES = autofillPreemptible(typeMap([T1, T2]), 0.35, 'InstanceTypes', []);
const S1 = TYPES['type1.preemptible']!;
const S2 = TYPES['type2.preemptible']!;

interface World {
  readonly pool?: FakePool;
  readonly ctrs: readonly { readonly c: Container; readonly seen?: number }[];
  /** Type names the pool reports at capacity. */
  readonly full?: readonly string[];
  readonly state?: SchedulerState;
  readonly config?: ClusterConfig;
}

function cluster(over: Parameters<typeof testCluster>[0] = {}): ClusterConfig {
  return testCluster({ types: Object.values(TYPES), cloudVMs: { MaxInstances: 0 }, ...over });
}

function input(w: World): MapperInput {
  const config = w.config ?? cluster();
  const sizing = new SizingCache(config);
  const entries = new Map<string, QueueEntry>();
  for (const { c, seen } of w.ctrs) {
    const s = sizing.size(c);
    entries.set(c.uuid, { container: c, resources: s.resources, instanceTypes: s.instanceTypes, firstSeenAt: seen ?? NOW });
  }
  const full = new Set(w.full ?? []);
  const snap = (w.pool ?? new FakePool()).snapshot();
  return {
    queue: { entries, updatedAt: NOW },
    pool: { ...snap, atCapacity: (t: InstanceType) => full.has(t.name) },
    config,
    now: NOW,
    last503: 0,
    state: w.state ?? initialSchedulerState(config),
  };
}

const spot = (i: number, o: Parameters<typeof makeContainer>[1] = {}) => makeContainer(i, { state: 'Locked', preemptible: true, ...o });
const names = (ts: readonly InstanceType[]) => ts.map((t) => t.name);

describe('spot-fallback policy', () => {
  it('falls back to the on-demand twin when spot is at capacity for every preemptible type', () => {
    const w: World = { ctrs: [{ c: spot(1) }], full: [S1.name] };
    expect(planArvados(input(w)).create).toEqual([]);
    const plan = planSpotFallback(input(w));
    expect(plan.create.map((c) => [c.type.name, c.forUuid])).toEqual([[T1.name, spot(1).uuid]]);
    expect(plan.statuses.get(spot(1).uuid)).toBe(statusWaitingForInstance(T1.name));
  });

  it('locks a Queued preemptible container when spot is at capacity, which arvados leaves in the queue', () => {
    const w: World = { ctrs: [{ c: spot(1, { state: 'Queued' }) }], full: [S1.name] };
    expect(planArvados(input(w)).lock).toEqual([]);
    expect(planSpotFallback(input(w)).lock).toEqual([spot(1).uuid]);
  });

  it('keeps spot while any of its preemptible types has capacity', () => {
    const config = cluster({ containers: { MaximumPriceFactor: 2 } });
    const w: World = { ctrs: [{ c: spot(1) }], full: [S1.name], config };
    expect(fallbackView(input(w)).widened).toEqual([]);
    expect(planSpotFallback(input(w)).create.map((c) => c.type.name)).toEqual([S2.name]);
  });

  it('waits within patience, then takes room on an on-demand instance', () => {
    const pool = new FakePool();
    const idle = pool.addWorker(T1, 'idle');
    const early = input({ pool, ctrs: [{ c: spot(1), seen: NOW - 9 * MIN }] });
    const planEarly = planSpotFallback(early);
    expect(planEarly.start).toEqual([]);
    expect(planEarly.create.map((c) => c.type.name)).toEqual([S1.name]);
    const late = input({ pool, ctrs: [{ c: spot(1), seen: NOW - 10 * MIN }] });
    const planLate = planSpotFallback(late);
    expect(planLate.start).toEqual([{ instanceId: idle.id, uuid: spot(1).uuid }]);
    expect(planLate.create).toEqual([]);
  });

  it('after patience still creates spot when spot has capacity (price order: spot first)', () => {
    const plan = planSpotFallback(input({ ctrs: [{ c: spot(1), seen: NOW - 60 * MIN }] }));
    expect(plan.create.map((c) => c.type.name)).toEqual([S1.name]);
  });

  it('with patience alone (onCapacity off), waits at capacity until the patience is spent', () => {
    const opts: SpotFallbackOptions = { ...SPOT_FALLBACK_DEFAULTS, onCapacity: false, patienceMs: 5 * MIN };
    expect(planSpotFallback(input({ ctrs: [{ c: spot(1), seen: NOW - 4 * MIN }], full: [S1.name] }), opts).create).toEqual([]);
    const plan = planSpotFallback(input({ ctrs: [{ c: spot(1), seen: NOW - 5 * MIN }], full: [S1.name] }), opts);
    expect(plan.create.map((c) => c.type.name)).toEqual([T1.name]);
  });

  it('never falls back for containers that asked for on-demand', () => {
    const pool = new FakePool();
    pool.addWorker(S1, 'idle');
    const ctrs = [{ c: makeContainer(1, { state: 'Locked' }), seen: 0 }];
    const w: World = { pool, ctrs, full: [T1.name] };
    const inp = input(w);
    expect(fallbackView(inp).input).toBe(inp);
    const plan = planSpotFallback(inp);
    expect(plan.start).toEqual([]);
    expect(plan.create).toEqual([]);
    expect(withOnDemandTwins(inp.queue.entries.get(ctrs[0]!.c.uuid)!.instanceTypes, inp.config)).toEqual([T1]);
  });

  it('keeps price order: spot types first, then their twins, cheapest first, and creates the cheapest twin', () => {
    const config = cluster({ containers: { MaximumPriceFactor: 2 } });
    const w: World = { ctrs: [{ c: spot(1) }], full: [S1.name, S2.name], config };
    const ent = input(w).queue.entries.get(spot(1).uuid)!;
    expect(names(ent.instanceTypes)).toEqual([S1.name, S2.name]);
    expect(names(withOnDemandTwins(ent.instanceTypes, config))).toEqual([S1.name, S2.name, T1.name, T2.name]);
    expect(planSpotFallback(input(w)).create.map((c) => c.type.name)).toEqual([T1.name]);
    // A spot discount of only 10 %: the small on-demand twin is cheaper than the bigger spot type.
    const dear = autofillPreemptible(typeMap([T1, T2]), 0.9, 'InstanceTypes', []);
    const c2 = testCluster({ types: Object.values(dear), containers: { MaximumPriceFactor: 2 } });
    expect(names(withOnDemandTwins([dear['type1.preemptible']!, dear['type2.preemptible']!], c2))).toEqual([S1.name, T1.name, S2.name, T2.name]);
  });

  it('does not fall back to a type that only shares the provider type (different hardware)', () => {
    const odd: InstanceType = { ...T1, name: 'type1.other', ram: T1.ram * 2, price: 0.2 };
    const config = testCluster({ types: [...Object.values(TYPES), odd], cloudVMs: { MaxInstances: 0 } });
    expect(names(withOnDemandTwins([S1], config))).toEqual([S1.name, T1.name]);
    const lonely = testCluster({ types: [S1, T2], cloudVMs: { MaxInstances: 0 } });
    expect(withOnDemandTwins([S1], lonely)).toEqual([S1]);
  });

  it('respects MaxInstances when falling back', () => {
    const pool = new FakePool();
    pool.addWorker(T2, 'running', [makeContainer(99).uuid]);
    const config = cluster({ cloudVMs: { MaxInstances: 3 } });
    const ctrs = [{ c: makeContainer(99, { state: 'Running' }) }, ...[1, 2, 3, 4].map((i) => ({ c: spot(i) }))];
    const plan = planSpotFallback(input({ pool, ctrs, full: [S1.name], config }));
    expect(plan.create.map((c) => c.type.name)).toEqual([T1.name, T1.name]);
  });

  it('respects the quota: no create while at quota, and the over-quota unlocks of arvados', () => {
    const pool = new FakePool();
    pool.quota = 2;
    pool.addWorker(T2, 'running', [makeContainer(99).uuid]);
    const idle = pool.addWorker(S2, 'idle');
    const ctrs = [{ c: makeContainer(99, { state: 'Running' }) }, ...[1, 2, 3].map((i) => ({ c: spot(i) }))];
    const w: World = { pool, ctrs, full: [S1.name] };
    const plan = planSpotFallback(input(w));
    expect(plan.create).toEqual([]);
    expect(plan.unlock).toEqual([spot(2).uuid, spot(3).uuid]);
    expect(plan.shutdown).toEqual([idle.id]);
    expect(plan.unlock).toEqual(planArvados(fallbackView(input(w)).input).unlock);
  });

  it('stays fallen back while Locked, so the on-demand instance booting for it is still its own once spot is back', () => {
    const pool = new FakePool();
    const first = planSpotFallback(input({ pool, ctrs: [{ c: spot(1) }], full: [S1.name] }));
    expect(first.create.map((c) => c.type.name)).toEqual([T1.name]);
    expect((first.state as SpotFallbackState).fallenBack).toEqual([spot(1).uuid]);
    const booting = pool.addWorker(T1, 'booting');
    // The capacity memory has expired: spot looks available again.
    const second = planSpotFallback(input({ pool, ctrs: [{ c: spot(1) }], state: first.state }));
    expect(second.create).toEqual([]);
    expect(second.statuses.get(spot(1).uuid)).toBe(statusWaitingForInstance(T1.name));
    expect((second.state as SpotFallbackState).fallenBack).toEqual([spot(1).uuid]);
    // Without the memory, arvados would create a spot instance and leave the twin idle.
    expect(planArvados(input({ pool, ctrs: [{ c: spot(1) }] })).create.map((c) => c.type.name)).toEqual([S1.name]);
    // Once it runs to completion, it is forgotten.
    booting.state = 'idle';
    const done = planSpotFallback(input({ pool, ctrs: [{ c: spot(1, { state: 'Complete' }) }], state: second.state }));
    expect((done.state as SpotFallbackState).fallenBack).toBeUndefined();
  });

  it('with capacityGraceMs, falls back at capacity only once the container has waited that long', () => {
    const opts: SpotFallbackOptions = { ...SPOT_FALLBACK_DEFAULTS, capacityGraceMs: 2 * MIN };
    expect(planSpotFallback(input({ ctrs: [{ c: spot(1), seen: NOW - MIN }], full: [S1.name] }), opts).create).toEqual([]);
    const plan = planSpotFallback(input({ ctrs: [{ c: spot(1), seen: NOW - 2 * MIN }], full: [S1.name] }), opts);
    expect(plan.create.map((c) => c.type.name)).toEqual([T1.name]);
  });

  it('with minLockCount, falls back for a container locked before', () => {
    const opts: SpotFallbackOptions = { ...SPOT_FALLBACK_DEFAULTS, onCapacity: false, minLockCount: 2 };
    const pool = new FakePool();
    pool.addWorker(T1, 'idle');
    const once = { ...spot(1), lockCount: 1 };
    const twice = { ...spot(1), lockCount: 2 };
    expect(planSpotFallback(input({ pool, ctrs: [{ c: once }] }), opts).start).toEqual([]);
    expect(planSpotFallback(input({ pool, ctrs: [{ c: twice }] }), opts).start.length).toBe(1);
    expect(planSpotFallback(input({ pool, ctrs: [{ c: twice }] })).start).toEqual([]);
  });

  it('plans exactly as arvados, state included, when nothing falls back', () => {
    const pool = new FakePool();
    pool.addWorker(S1, 'idle');
    const w: World = { pool, ctrs: [{ c: spot(1) }, { c: makeContainer(2, { state: 'Queued' }) }] };
    expect(planSpotFallback(input(w))).toEqual(planArvados(input(w)));
  });

  it('is registered, with a one-line description', () => {
    const p = findPolicy('spot-fallback');
    expect(p).toBeDefined();
    expect(p!.description).not.toContain('\n');
  });
});
