// Properties every policy in this folder must keep, over random queues and pool states
// (fast-check prints the seed and the shrunk counterexample on failure): the limits and
// invariants the arvados policy keeps, plus the rules for shutting instances down.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { accommodates, subtract, typeResources } from '../../domain/node-size.js';
import type { Resources } from '../../domain/resources.js';
import { planArvados } from '../arvados-policy.js';
import { build, inputArb, runs } from '../../../test/fakes/sched-mapper-input.js';
import type { MapperInput, MapperPolicy, Plan } from '../policy.js';
import { leanPolicy, makeLeanPolicy } from './lean-policy.js';
import { makePackingPolicy, packingPolicy } from './packing-policy.js';

const POLICIES: MapperPolicy[] = [
  packingPolicy,
  leanPolicy,
  makePackingPolicy('packing-eager', { lookahead: 3, passBudget: 5, maxTypes: 2, margin: 1, stopAfterQuota: false }),
  makeLeanPolicy('lean-eager', { idleGraceFraction: 0, trimBooting: true, warmFactor: 0, windowMs: 60_000 }),
  makeLeanPolicy('lean-room', { idleGraceFraction: 0.5, trimBooting: false, warmFactor: 2, windowMs: 600_000, reserveCountsRoom: true }),
];

describe.each(POLICIES.map((p) => [p.name, p] as const))('policy %s', (_name, policy) => {
  it('never starts a container on a VM without room, or on one that cannot take it', () => {
    fc.assert(
      fc.property(inputArb, (g) => {
        const input = build(g);
        const plan = policy.plan(input);
        const perInstance = input.config.Containers.CloudVMs.MaxRunningContainersPerInstance;
        const byId = new Map(input.pool.instances.filter((v) => v.instanceId !== '').map((v) => [v.instanceId, v]));
        const left = new Map<string, { r: Resources; n: number }>();
        for (const s of plan.start) {
          const view = byId.get(s.instanceId)!;
          expect(['idle', 'running']).toContain(view.state);
          expect(view.idleBehavior).toBe('run');
          const ent = input.queue.entries.get(s.uuid)!;
          expect(ent.container.state).toBe('Locked');
          expect(ent.instanceTypes.map((t) => t.name)).toContain(view.instanceType.name);
          let cur = left.get(s.instanceId);
          if (cur === undefined) {
            let r = typeResources(view.instanceType);
            for (const uuid of view.runningContainerUuids) r = subtract(r, input.queue.entries.get(uuid)!.resources);
            cur = { r, n: view.runningContainerUuids.length };
          }
          expect(accommodates(cur.r, ent.resources)).toBe(true);
          cur = { r: subtract(cur.r, ent.resources), n: cur.n + 1 };
          if (perInstance > 0) expect(cur.n).toBeLessThanOrEqual(perInstance);
          left.set(s.instanceId, cur);
        }
      }),
      runs,
    );
  });

  it('creates only eligible types not at capacity, within MaxInstances, the quota and the create limit', () => {
    fc.assert(
      fc.property(inputArb, (g) => {
        const input = build(g);
        const plan = policy.plan(input);
        const vms = input.config.Containers.CloudVMs;
        if (input.pool.atQuota || input.pool.createBlocked) expect(plan.create).toEqual([]);
        if (vms.MaxInstances > 0) expect(plan.create.length).toBeLessThanOrEqual(Math.max(0, vms.MaxInstances - input.pool.instances.length));
        if (vms.MaxConcurrentInstanceCreateOps > 0) {
          const pending = input.pool.instances.filter((v) => v.instanceId === '').length;
          expect(pending + plan.create.length).toBeLessThanOrEqual(Math.max(pending, vms.MaxConcurrentInstanceCreateOps));
        }
        for (const c of plan.create) {
          const ent = input.queue.entries.get(c.forUuid)!;
          expect(ent.container.state).toBe('Locked');
          expect(ent.instanceTypes).toContain(c.type);
          expect(input.pool.atCapacity(c.type)).toBe(false);
        }
      }),
      runs,
    );
  });

  it('never locks more than it can run', () => {
    fc.assert(
      fc.property(inputArb, (g) => {
        const input = build(g);
        const plan = policy.plan(input);
        const max = plan.state.maxContainers;
        if (max > 0) {
          expect(plan.lock.length + plan.start.length + plan.create.length).toBeLessThanOrEqual(Math.max(0, max - input.pool.running.size));
        }
        for (const uuid of plan.lock) {
          const c = input.queue.entries.get(uuid)!.container;
          expect(c.state).toBe('Queued');
          expect(c.priority > 0n).toBe(true);
          expect(input.pool.running.has(uuid)).toBe(false);
        }
        if (input.pool.atQuota && input.pool.instances.length === 0) expect(plan.lock).toEqual([]);
        expect(new Set(plan.lock).size).toBe(plan.lock.length);
        for (const uuid of plan.unlock) {
          expect(input.queue.entries.get(uuid)!.container.state).toBe('Locked');
          expect(plan.lock).not.toContain(uuid);
        }
      }),
      runs,
    );
  });

  it('shuts down only booting or idle instances with nothing on them, planned or running, never on hold', () => {
    fc.assert(
      fc.property(inputArb, (g) => {
        const input = build(g);
        const plan = policy.plan(input);
        const ref = planArvados(input);
        const byId = new Map(input.pool.instances.filter((v) => v.instanceId !== '').map((v) => [v.instanceId, v]));
        const startedOn = new Set(plan.start.map((s) => s.instanceId));
        expect(new Set(plan.shutdown).size).toBe(plan.shutdown.length);
        for (const id of plan.shutdown) {
          const view = byId.get(id)!;
          expect(['booting', 'idle']).toContain(view.state);
          expect(view.idleBehavior).not.toBe('hold');
          expect(view.runningContainerUuids).toEqual([]);
          expect(startedOn.has(id)).toBe(false);
          // Beyond the reference's over-quota shutdowns, only instances the pool would run.
          if (!ref.shutdown.includes(id)) expect(view.idleBehavior).toBe('run');
        }
        // The dynamic limit is the reference's, whatever the policy.
        expect(plan.state.maxContainers).toBe(ref.state.maxContainers);
        expect(plan.state.instancesWithinQuota).toBe(ref.state.instancesWithinQuota);
        for (const id of ref.shutdown) expect(plan.shutdown).toContain(id);
      }),
      runs,
    );
  });

  it('is deterministic, whatever the order of the snapshots', () => {
    fc.assert(
      fc.property(inputArb, fc.integer(), (g, seed) => {
        const input = build(g);
        const a = policy.plan(input);
        const rnd = shuffler(seed);
        const shuffled: MapperInput = {
          ...input,
          queue: { ...input.queue, entries: new Map(rnd([...input.queue.entries])) },
          pool: { ...input.pool, instances: rnd([...input.pool.instances]) },
        };
        expect(comparable(policy.plan(shuffled))).toEqual(comparable(a));
        // Fed its own state back, it stays deterministic.
        const again = { ...input, state: a.state };
        expect(comparable(policy.plan(again))).toEqual(comparable(policy.plan({ ...again })));
      }),
      runs,
    );
  });
});

describe.each(POLICIES.filter((p) => p.name.startsWith('lean')).map((p) => [p.name, p] as const))('policy %s', (_name, policy) => {
  it('decides about containers exactly as arvados does', () => {
    fc.assert(
      fc.property(inputArb, (g) => {
        const input = build(g);
        const plan = comparable(policy.plan(input));
        const ref = comparable(planArvados(input));
        expect({ ...plan, shutdown: [], extraState: '' }).toEqual({ ...ref, shutdown: [], extraState: '' });
      }),
      runs,
    );
  });
});

function comparable(p: Plan) {
  const { maxContainers, instancesWithinQuota, last503Seen } = p.state;
  return {
    ...p,
    statuses: [...p.statuses],
    create: p.create.map((c) => [c.type.name, c.forUuid]),
    state: { maxContainers, instancesWithinQuota, last503Seen },
    extraState: JSON.stringify(p.state),
  };
}

function shuffler(seed: number) {
  let x = seed | 0 || 1;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
  return <T>(a: T[]): T[] => {
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  };
}
