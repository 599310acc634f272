// The packing policy's choice of type for a new instance, on small hand-made passes.
import { describe, expect, it } from 'vitest';
import { GIB, instanceType, makeContainer, testCluster } from '../../../test/fakes/sched-fixtures.js';
import { FakePool } from '../../../test/fakes/sched-pool.js';
import type { Container } from '../../domain/container.js';
import type { InstanceType } from '../../domain/instance-type.js';
import type { QueueEntry } from '../../queue/queue-snapshot.js';
import { SizingCache } from '../../queue/sizing-cache.js';
import { planArvados } from '../arvados-policy.js';
import type { MapperInput } from '../policy.js';
import { PACKING_DEFAULTS, planPacking, workValue } from './packing-policy.js';

const NOW = 10_000_000;
// Two VCPUs for 0.2, eight for 0.6: the big one is cheaper per VCPU, within a price factor of 3.
const SMALL = instanceType(2, { name: 'small', price: 0.2, ram: 8 * GIB });
const BIG = instanceType(8, { name: 'big', price: 0.6, ram: 32 * GIB });

function input(ctrs: Container[], pool = new FakePool(), o: { factor?: number; perInstance?: number; types?: InstanceType[] } = {}): MapperInput {
  const config = testCluster({
    types: o.types ?? [SMALL, BIG],
    containers: { MaximumPriceFactor: o.factor ?? 3 },
    cloudVMs: { MaxInstances: 0, MaxRunningContainersPerInstance: o.perInstance ?? 0 },
  });
  const sizing = new SizingCache(config);
  const entries = new Map<string, QueueEntry>();
  for (const c of ctrs) {
    const s = sizing.size(c);
    entries.set(c.uuid, { container: c, resources: s.resources, instanceTypes: s.instanceTypes, firstSeenAt: 0 });
  }
  return { queue: { entries, updatedAt: NOW }, pool: pool.snapshot(), config, now: NOW, last503: 0, state: { maxContainers: 0, instancesWithinQuota: 0, last503Seen: 0 } };
}

const locked = (n: number, vcpus = 2) => Array.from({ length: n }, (_, i) => makeContainer(i + 1, { state: 'Locked', vcpus, ram: GIB }));

describe('packing policy', () => {
  it('creates the cheapest type for a container alone', () => {
    expect(planPacking(input(locked(1))).create.map((c) => c.type.name)).toEqual(['small']);
  });

  it('creates one bigger instance for several waiting containers when it costs less per container, and packs them on it', () => {
    const plan = planPacking(input(locked(4)));
    expect(plan.create.map((c) => [c.type.name, c.forUuid])).toEqual([['big', makeContainer(1).uuid]]);
    expect(planArvados(input(locked(4))).create.map((c) => c.type.name)).toEqual(['small', 'small', 'small', 'small']);
  });

  it('counts Queued containers that the same pass will lock onto the new instance', () => {
    const ctrs = [makeContainer(1, { state: 'Locked', vcpus: 2, ram: GIB }), ...[2, 3, 4].map((i) => makeContainer(i, { state: 'Queued', vcpus: 2, ram: GIB }))];
    const plan = planPacking(input(ctrs));
    expect(plan.create.map((c) => c.type.name)).toEqual(['big']);
    expect(plan.lock).toEqual([2, 3, 4].map((i) => makeContainer(i).uuid));
  });

  it('keeps the cheapest type when the bigger one is not cheaper per container by the margin', () => {
    const fair = instanceType(8, { name: 'fair', price: 0.8, ram: 32 * GIB });
    expect(planPacking(input(locked(4), new FakePool(), { types: [SMALL, fair] })).create.map((c) => c.type.name)).toEqual(['small', 'small', 'small', 'small']);
  });

  it('only chooses among eligible types, and respects MaxRunningContainersPerInstance', () => {
    expect(planPacking(input(locked(4), new FakePool(), { factor: 1 })).create.map((c) => c.type.name)).toEqual(['small', 'small', 'small', 'small']);
    // Two per instance: the big one would hold two, 0.6 for 2 x 0.2 of work: worse than small.
    expect(planPacking(input(locked(4), new FakePool(), { perInstance: 2 })).create.every((c) => c.type.name === 'small')).toBe(true);
  });

  it('does not count containers an existing instance can take', () => {
    const pool = new FakePool();
    pool.addWorker(BIG, 'booting');
    const plan = planPacking(input(locked(5), pool));
    // Four go to the booting big instance; the fifth is alone: the cheapest type.
    expect(plan.create.map((c) => c.type.name)).toEqual(['small']);
  });

  it('stops packing once a quota error has been seen', () => {
    const i = input(locked(4));
    const plan = planPacking({ ...i, state: { ...i.state, instancesWithinQuota: 3 } });
    expect(plan.create[0]?.type.name).toBe('small');
    expect(PACKING_DEFAULTS.stopAfterQuota).toBe(true);
  });

  it('values a container at the cheapest price of its share of an eligible type', () => {
    const [e] = input([makeContainer(1, { state: 'Locked', vcpus: 1, ram: GIB })]).queue.entries.values();
    // Half of small (0.1) or an eighth of big (0.075).
    expect(workValue(e!)).toBeCloseTo(0.075);
  });
});
