// The arvados policy's persistent state (dynamic concurrency) and type fallback, called as
// the pure function it is.
import { describe, expect, it } from 'vitest';
import { containerUuid as u, instanceType, makeContainer, testCluster, type TestClusterOptions } from '../../test/fakes/sched-fixtures.js';
import { FakePool } from '../../test/fakes/sched-pool.js';
import type { Container } from '../domain/container.js';
import type { QueueEntry } from '../queue/queue-snapshot.js';
import { SizingCache } from '../queue/sizing-cache.js';
import { planArvados, QUIET_AFTER_503_MS } from './arvados-policy.js';
import { initialSchedulerState, type MapperInput, type SchedulerState } from './policy.js';

const NOW = 10_000_000;

function input(o: { ctrs: Container[]; pool: FakePool; cluster?: TestClusterOptions; state?: Partial<SchedulerState>; last503?: number }): MapperInput {
  const config = testCluster(o.cluster);
  const sizing = new SizingCache(config);
  const entries = new Map<string, QueueEntry>();
  for (const c of o.ctrs) {
    const s = sizing.size(c);
    entries.set(c.uuid, { container: c, resources: s.resources, instanceTypes: s.instanceTypes, firstSeenAt: 0 });
  }
  return {
    queue: { entries, updatedAt: NOW },
    pool: o.pool.snapshot(),
    config,
    now: NOW,
    last503: o.last503 ?? 0,
    state: { ...initialSchedulerState(config), ...o.state },
  };
}

/** A pool running containers 100.. on `n` type1 workers (and their queue entries). */
function busy(n: number): { pool: FakePool; ctrs: Container[] } {
  const pool = new FakePool();
  const ctrs: Container[] = [];
  for (let i = 0; i < n; i++) {
    ctrs.push(makeContainer(100 + i, { state: 'Running', priority: 1 }));
    pool.addWorker(instanceType(1), 'running', [u(100 + i)]);
  }
  return { pool, ctrs };
}

describe('arvados policy: dynamic concurrency', () => {
  it('starts from InitialQuotaEstimate, else MaxInstances', () => {
    expect(initialSchedulerState(testCluster({ cloudVMs: { InitialQuotaEstimate: 4, MaxInstances: 64 } })).maxContainers).toBe(4);
    expect(initialSchedulerState(testCluster({ cloudVMs: { InitialQuotaEstimate: 0, MaxInstances: 64 } })).maxContainers).toBe(64);
  });

  it('slow start: raises the limit to running x 1.1 + 1 when no 503 was ever seen', () => {
    const { pool, ctrs } = busy(10);
    const plan = planArvados(input({ ctrs, pool, state: { maxContainers: 4 }, cluster: { cloudVMs: { MaxInstances: 0 } } }));
    expect(plan.state.maxContainers).toBe(12);
    expect(plan.metrics.maxConcurrentContainers).toBe(12);
  });

  it('a new 503 drops the limit to running - 1, and it stays there during the quiet period', () => {
    const { pool, ctrs } = busy(10);
    const t503 = NOW - 1_000;
    const p1 = planArvados(input({ ctrs, pool, state: { maxContainers: 30 }, last503: t503, cluster: { cloudVMs: { MaxInstances: 0 } } }));
    expect(p1.state).toEqual({ maxContainers: 9, instancesWithinQuota: 0, last503Seen: t503 });
    expect(p1.metrics.last503Time).toBe(Math.floor(t503 / 1000));
    const p2 = planArvados(input({ ctrs, pool, state: p1.state, last503: t503, cluster: { cloudVMs: { MaxInstances: 0 } } }));
    expect(p2.state.maxContainers).toBe(9);
    const later = { ...input({ ctrs, pool, state: p1.state, last503: t503, cluster: { cloudVMs: { MaxInstances: 0 } } }), now: t503 + QUIET_AFTER_503_MS + 1 };
    expect(planArvados(later).state.maxContainers).toBe(12);
  });

  it('at quota: caps the limit at the instance count and remembers it; afterwards at most one more', () => {
    const { pool, ctrs } = busy(3);
    pool.quota = 3;
    const p1 = planArvados(input({ ctrs, pool, state: { maxContainers: 10 } }));
    expect(p1.state.maxContainers).toBe(3);
    expect(p1.state.instancesWithinQuota).toBe(3);
    pool.quota = Infinity;
    const p2 = planArvados(input({ ctrs, pool, state: { ...p1.state, maxContainers: 20 } }));
    expect(p2.state.maxContainers).toBe(4);
  });

  it('0 means unlimited and stays unlimited', () => {
    const { pool, ctrs } = busy(5);
    const plan = planArvados(input({ ctrs, pool, state: { maxContainers: 0 }, cluster: { cloudVMs: { MaxInstances: 0 } } }));
    expect(plan.state.maxContainers).toBe(0);
  });
});

describe('arvados policy: instance types', () => {
  it('falls back to the next eligible type when the cheapest is at capacity', () => {
    const pool = new FakePool();
    pool.capacity.set('providertype1', 0);
    const plan = planArvados(
      input({ ctrs: [makeContainer(1, { state: 'Locked' })], pool, cluster: { containers: { MaximumPriceFactor: 2 } } }),
    );
    expect(plan.create.map((c) => c.type.name)).toEqual(['type2']);
  });

  it('creates an instance and packs lower-priority containers onto it in the same pass', () => {
    const pool = new FakePool();
    const plan = planArvados(
      input({
        ctrs: [makeContainer(1, { state: 'Locked', priority: 2, vcpus: 1 }), makeContainer(2, { state: 'Locked', priority: 1, vcpus: 1 })],
        pool,
        cluster: { types: [instanceType(4)] },
      }),
    );
    expect(plan.create.map((c) => [c.type.name, c.forUuid])).toEqual([['type4', u(1)]]);
    expect(plan.statuses.get(u(2))).toBe('Waiting for a type4 instance to boot and be ready to accept work.');
    expect(plan.metrics.allocatedNotStarted).toBe(2);
  });

  it('does not create while creates are blocked or at the concurrency limit', () => {
    const pool = new FakePool();
    pool.createBlocked = true;
    const ctrs = [makeContainer(1, { state: 'Locked', priority: 2 }), makeContainer(2, { state: 'Locked', priority: 1, vcpus: 2 })];
    expect(planArvados(input({ ctrs, pool })).create).toEqual([]);
    pool.createBlocked = false;
    const plan = planArvados(input({ ctrs, pool, cluster: { cloudVMs: { MaxConcurrentInstanceCreateOps: 1 } } }));
    expect(plan.create.map((c) => c.forUuid)).toEqual([u(1)]);
  });
});
