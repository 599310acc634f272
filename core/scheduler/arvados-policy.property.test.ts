// Properties of the arvados policy over random queues and pool states (fast-check prints
// the seed and the shrunk counterexample on failure).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { accommodates, subtract, typeResources } from '../domain/node-size.js';
import type { Resources } from '../domain/resources.js';
import { planArvados } from './arvados-policy.js';
import { build, inputArb, PlanCoverage, runs as sharedRuns } from '../../test/fakes/sched-mapper-input.js';
import type { MapperInput, Plan } from './policy.js';

// The reference policy gets more runs than the others (FC_RUNS still overrides).
const runs = { ...sharedRuns, numRuns: Number(process.env.FC_RUNS ?? 200) };

describe('arvados policy properties', () => {
  it('never starts a container on a VM without room, or on one that cannot take it', () => {
    const coverage = new PlanCoverage();
    fc.assert(
      fc.property(inputArb, (g) => {
        const input = build(g);
        const plan = planArvados(input);
        coverage.note(plan);
        const perInstance = input.config.Containers.CloudVMs.MaxRunningContainersPerInstance;
        const byId = new Map(input.pool.instances.filter((v) => v.instanceId !== '').map((v) => [v.instanceId, v]));
        const left = new Map<string, { r: Resources; n: number }>();
        for (const s of plan.start) {
          const view = byId.get(s.instanceId);
          expect(view).toBeDefined();
          expect(['idle', 'running']).toContain(view!.state);
          expect(view!.idleBehavior).toBe('run');
          const ent = input.queue.entries.get(s.uuid)!;
          expect(ent.container.state).toBe('Locked');
          expect(ent.instanceTypes.map((t) => t.name)).toContain(view!.instanceType.name);
          let cur = left.get(s.instanceId);
          if (cur === undefined) {
            let r = typeResources(view!.instanceType);
            for (const uuid of view!.runningContainerUuids) {
              const e = input.queue.entries.get(uuid);
              expect(e).toBeDefined(); // an instance running an unknown container counts as full
              r = subtract(r, e!.resources);
            }
            cur = { r, n: view!.runningContainerUuids.length };
          }
          expect(accommodates(cur.r, ent.resources)).toBe(true);
          cur = { r: subtract(cur.r, ent.resources), n: cur.n + 1 };
          if (perInstance > 0) expect(cur.n).toBeLessThanOrEqual(perInstance);
          left.set(s.instanceId, cur);
        }
      }),
      runs,
    );
    // Starts, creates, locks, unlocks and shutdowns each occur in at least 2 % of the plans.
    coverage.check(0.02);
  });

  it('never exceeds MaxInstances, the quota or the create concurrency limit', () => {
    fc.assert(
      fc.property(inputArb, (g) => {
        const input = build(g);
        const plan = planArvados(input);
        const vms = input.config.Containers.CloudVMs;
        if (input.pool.atQuota || input.pool.createBlocked) expect(plan.create).toEqual([]);
        if (vms.MaxInstances > 0) expect(plan.create.length).toBeLessThanOrEqual(Math.max(0, vms.MaxInstances - input.pool.instances.length));
        if (vms.MaxConcurrentInstanceCreateOps > 0) {
          const pending = input.pool.instances.filter((v) => v.instanceId === '').length;
          expect(pending + plan.create.length).toBeLessThanOrEqual(Math.max(pending, vms.MaxConcurrentInstanceCreateOps));
        }
        for (const c of plan.create) expect(input.pool.atCapacity(c.type)).toBe(false);
        for (const c of plan.create) expect(input.queue.entries.get(c.forUuid)?.container.state).toBe('Locked');
      }),
      runs,
    );
  });

  it('never locks more than it can run', () => {
    fc.assert(
      fc.property(inputArb, (g) => {
        const input = build(g);
        const plan = planArvados(input);
        const max = plan.state.maxContainers;
        const running = input.pool.running.size;
        if (max > 0) {
          expect(plan.lock.length + plan.start.length + plan.create.length).toBeLessThanOrEqual(Math.max(0, max - running));
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

  it('is deterministic, whatever the order of the snapshots', () => {
    fc.assert(
      fc.property(inputArb, fc.integer(), (g, seed) => {
        const input = build(g);
        const a = planArvados(input);
        const rnd = shuffler(seed);
        const shuffled: MapperInput = {
          ...input,
          queue: { ...input.queue, entries: new Map(rnd([...input.queue.entries])) },
          pool: { ...input.pool, instances: rnd([...input.pool.instances]) },
        };
        const b = planArvados(shuffled);
        expect(comparable(b)).toEqual(comparable(a));
        expect(comparable(planArvados(input))).toEqual(comparable(a));
      }),
      runs,
    );
  });
});

function comparable(p: Plan) {
  return { ...p, statuses: [...p.statuses], create: p.create.map((c) => [c.type.name, c.forUuid]) };
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

