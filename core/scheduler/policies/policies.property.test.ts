// Properties every policy must keep, arvados (the reference) included, over random queues and
// pool states with and without spot (fast-check prints the seed and the shrunk
// counterexample on failure): the limits and invariants of the reference mapper, plus the
// rules for shutting instances down.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { accommodates, compareInstanceTypes, subtract, typeResources } from '../../domain/node-size.js';
import type { Resources } from '../../domain/resources.js';
import { arvadosPolicy, planArvados } from '../arvados-policy.js';
import { buildMixed, mixedInputArb, PlanCoverage, runs } from '../../../test/fakes/sched-mapper-input.js';
import type { MapperInput, MapperPolicy, Plan } from '../policy.js';
import { leanPolicy, makeLeanPolicy } from './lean-policy.js';
import { makePackingPolicy, packingPolicy } from './packing-policy.js';
import {
  fallbackView,
  makeSpotFallbackPolicy,
  SPOT_FALLBACK_DEFAULTS,
  spotFallbackPolicy,
  withOnDemandTwins,
  type SpotFallbackOptions,
} from './spot-fallback-policy.js';

const SPOT_EAGER: SpotFallbackOptions = { onCapacity: true, patienceMs: 0, minLockCount: 2 };
const SPOT_CAPACITY_GRACE: SpotFallbackOptions = { onCapacity: true, capacityGraceMs: 300_000, patienceMs: Infinity, minLockCount: 0 };

const POLICIES: MapperPolicy[] = [
  arvadosPolicy,
  packingPolicy,
  leanPolicy,
  makePackingPolicy('packing-eager', { lookahead: 3, passBudget: 5, maxTypes: 2, margin: 1, stopAfterQuota: false }),
  makeLeanPolicy('lean-eager', { idleGraceFraction: 0, trimBooting: true, warmFactor: 0, windowMs: 60_000 }),
  makeLeanPolicy('lean-room', { idleGraceFraction: 0.5, trimBooting: false, warmFactor: 2, windowMs: 600_000, reserveCountsRoom: true }),
  spotFallbackPolicy,
  makeSpotFallbackPolicy('spot-fallback-eager', SPOT_EAGER),
  makeSpotFallbackPolicy('spot-fallback-capacity-grace', SPOT_CAPACITY_GRACE),
];

/** The options of each spot-fallback variant above, by name. */
const SPOT_OPTIONS = new Map<string, SpotFallbackOptions>([
  [spotFallbackPolicy.name, SPOT_FALLBACK_DEFAULTS],
  ['spot-fallback-eager', SPOT_EAGER],
  ['spot-fallback-capacity-grace', SPOT_CAPACITY_GRACE],
]);

/**
 * The input as the policy's pass sees it: for spot-fallback, with the type lists of the
 * containers that fall back widened to their on-demand twins (what it may use instead of
 * `entry.instanceTypes`); for the others, the input itself.
 */
function passInput(policy: MapperPolicy, input: MapperInput): MapperInput {
  const opts = SPOT_OPTIONS.get(policy.name);
  return opts === undefined ? input : fallbackView(input, opts).input;
}

describe.each(POLICIES.map((p) => [p.name, p] as const))('policy %s', (_name, policy) => {
  it('never starts a container on a VM without room, or on one that cannot take it', () => {
    const coverage = new PlanCoverage();
    fc.assert(
      fc.property(mixedInputArb, (g) => {
        const input = buildMixed(g);
        const plan = policy.plan(input);
        coverage.note(plan);
        const perInstance = input.config.Containers.CloudVMs.MaxRunningContainersPerInstance;
        const eligible = passInput(policy, input).queue.entries;
        const byId = new Map(input.pool.instances.filter((v) => v.instanceId !== '').map((v) => [v.instanceId, v]));
        const left = new Map<string, { r: Resources; n: number }>();
        for (const s of plan.start) {
          const view = byId.get(s.instanceId);
          if (view === undefined) throw new Error(`start on unknown instance ${s.instanceId}`);
          expect(['idle', 'running']).toContain(view.state);
          expect(view.idleBehavior).toBe('run');
          const ent = input.queue.entries.get(s.uuid)!;
          expect(ent.container.state).toBe('Locked');
          expect(eligible.get(s.uuid)!.instanceTypes.map((t) => t.name)).toContain(view.instanceType.name);
          let cur = left.get(s.instanceId);
          if (cur === undefined) {
            let r = typeResources(view.instanceType);
            for (const uuid of view.runningContainerUuids) {
              const e = input.queue.entries.get(uuid);
              expect(e).toBeDefined(); // an instance running an unknown container counts as full
              r = subtract(r, e!.resources);
            }
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
    // Starts, creates, locks, unlocks and shutdowns each occur in at least 2 % of the plans.
    coverage.check(0.02);
  });

  it('creates only eligible types not at capacity, within MaxInstances, the quota and the create limit', () => {
    fc.assert(
      fc.property(mixedInputArb, (g) => {
        const input = buildMixed(g);
        const plan = policy.plan(input);
        const vms = input.config.Containers.CloudVMs;
        if (input.pool.atQuota || input.pool.createBlocked) expect(plan.create).toEqual([]);
        if (vms.MaxInstances > 0) expect(plan.create.length).toBeLessThanOrEqual(Math.max(0, vms.MaxInstances - input.pool.instances.length));
        if (vms.MaxConcurrentInstanceCreateOps > 0) {
          const pending = input.pool.instances.filter((v) => v.instanceId === '').length;
          expect(pending + plan.create.length).toBeLessThanOrEqual(Math.max(pending, vms.MaxConcurrentInstanceCreateOps));
        }
        const eligible = passInput(policy, input).queue.entries;
        for (const c of plan.create) {
          const ent = input.queue.entries.get(c.forUuid)!;
          expect(ent.container.state).toBe('Locked');
          expect(eligible.get(c.forUuid)!.instanceTypes).toContain(c.type);
          expect(input.pool.atCapacity(c.type)).toBe(false);
        }
      }),
      runs,
    );
  });

  it('never locks more than it can run', () => {
    fc.assert(
      fc.property(mixedInputArb, (g) => {
        const input = buildMixed(g);
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
      fc.property(mixedInputArb, (g) => {
        const input = buildMixed(g);
        const plan = policy.plan(input);
        // The over-quota shutdowns are arvados's on the same (for spot-fallback, widened) queue.
        const ref = planArvados(passInput(policy, input));
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
        // The reference's over-quota shutdowns, wherever the policy reached the same
        // situation: the same creates. A policy that packs differently may place everything
        // and never be over quota (packing: a bigger type holds the container arvados
        // would have left over quota); the pool's idle timeout then ends unused instances.
        const creates = (p: typeof plan) => p.create.map((c) => `${c.type.name}>${c.forUuid}`).join(',');
        if (creates(plan) === creates(ref)) for (const id of ref.shutdown) expect(plan.shutdown).toContain(id);
      }),
      runs,
    );
  });

  it('is deterministic, whatever the order of the snapshots', () => {
    fc.assert(
      fc.property(mixedInputArb, fc.integer(), (g, seed) => {
        const input = buildMixed(g);
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
      fc.property(mixedInputArb, (g) => {
        const input = buildMixed(g);
        const plan = comparable(policy.plan(input));
        const ref = comparable(planArvados(input));
        expect({ ...plan, shutdown: [], extraState: '' }).toEqual({ ...ref, shutdown: [], extraState: '' });
      }),
      runs,
    );
  });
});

describe.each([...SPOT_OPTIONS].map(([name, opts]) => [name, opts] as const))('policy %s', (name, opts) => {
  const policy = POLICIES.find((p) => p.name === name)!;

  it('widens only preemptible containers, keeping their types and adding only on-demand twins, in price order', () => {
    fc.assert(
      fc.property(mixedInputArb, (g) => {
        const input = buildMixed(g);
        const wide = fallbackView(input, opts).input.queue.entries;
        expect([...wide.keys()]).toEqual([...input.queue.entries.keys()]);
        for (const [uuid, ent] of input.queue.entries) {
          const w = wide.get(uuid)!;
          if (w === ent) continue;
          expect(ent.container.schedulingParameters.preemptible).toBe(true);
          expect(['Queued', 'Locked']).toContain(ent.container.state);
          expect(input.pool.running.has(uuid)).toBe(false);
          expect(w.instanceTypes).toBe(withOnDemandTwins(ent.instanceTypes, input.config));
          for (const t of ent.instanceTypes) expect(w.instanceTypes).toContain(t);
          for (const t of w.instanceTypes.filter((x) => !ent.instanceTypes.includes(x))) {
            expect(t.preemptible).toBe(false);
            expect(ent.instanceTypes.some((p) => p.providerType === t.providerType && p.vcpus === t.vcpus && p.ram === t.ram)).toBe(true);
            expect(accommodates(typeResources(t), ent.resources)).toBe(true);
          }
          expect([...w.instanceTypes].sort(compareInstanceTypes)).toEqual(w.instanceTypes);
        }
      }),
      runs,
    );
  });

  it('plans what arvados plans on the widened queue, and exactly what it plans when nothing falls back', () => {
    fc.assert(
      fc.property(mixedInputArb, (g) => {
        const input = buildMixed(g);
        const view = fallbackView(input, opts);
        const plan = comparable(policy.plan(input));
        const ref = comparable(planArvados(view.input));
        expect({ ...plan, extraState: '' }).toEqual({ ...ref, extraState: '' });
        if (view.widened.length === 0 && input.queue.entries.size > 0 && (input.state as { fallenBack?: unknown }).fallenBack === undefined) {
          expect(view.input).toBe(input);
          expect(plan).toEqual(comparable(planArvados(input)));
        }
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
