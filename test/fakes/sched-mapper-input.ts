// Random mapper inputs for the property suites of the mapper policies (fast-check):
// queues, pools, limits and scheduler state, built into a MapperInput.
import fc from 'fast-check';
import type { ClusterConfig } from '../../core/config/cluster-config.js';
import { autofillPreemptible } from '../../core/config/instance-types-config.js';
import type { InstanceType } from '../../core/domain/instance-type.js';
import { WORKER_STATES, type InstanceView, type PoolSnapshot, type WorkerState } from '../../core/pool/pool-api.js';
import type { QueueEntry } from '../../core/queue/queue-snapshot.js';
import { SizingCache } from '../../core/queue/sizing-cache.js';
import type { MapperInput } from '../../core/scheduler/policy.js';
import { containerUuid, instanceType, makeContainer, testCluster, typeMap } from './sched-fixtures.js';

export const TYPES: InstanceType[] = [1, 2, 3, 4, 6, 8].map((i) => instanceType(i));
export const NOW = 1_000_000;

/** Mostly false: blockers (quota, throttles, capacity) on every input would leave nothing to plan. */
const rarely = fc.constantFrom(false, false, false, true);
/** 0 (no limit) half the time, else a limit from 1 to `max`. */
const limit = (max: number) => fc.oneof(fc.constant(0), fc.integer({ min: 1, max }));

const ctrArb = fc.record({
  state: fc.constantFrom('Queued', 'Queued', 'Locked', 'Locked', 'Locked', 'Running', 'Complete'),
  priority: fc.integer({ min: 0, max: 4 }),
  vcpus: fc.integer({ min: 0, max: 4 }),
  ramMiB: fc.integer({ min: 64, max: 5000 }),
  supervisor: fc.boolean(),
  firstSeen: fc.integer({ min: 0, max: NOW }),
});

const instArb = fc.record({
  type: fc.integer({ min: 0, max: TYPES.length - 1 }),
  state: fc.constantFrom<WorkerState>(...WORKER_STATES, 'idle', 'idle', 'idle', 'idle', 'running', 'running', 'booting'),
  behavior: fc.constantFrom('run', 'run', 'run', 'hold', 'drain'),
  pending: rarely,
  runs: fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 3 }),
  idleFor: fc.integer({ min: 0, max: 150_000 }),
  /** Half the instances take the cheapest type container N can use (when N exists and fits), so that instances often suit the queue. */
  forCtr: fc.option(fc.integer({ min: 0, max: 39 }), { freq: 2, nil: undefined }),
});

export const inputArb = fc.record({
  ctrs: fc.array(ctrArb, { maxLength: 40, size: 'medium' }),
  insts: fc.array(instArb, { maxLength: 12, size: 'medium' }),
  maxInstances: fc.integer({ min: 0, max: 12 }),
  perInstance: fc.integer({ min: 0, max: 3 }),
  priceFactor: fc.constantFrom(0, 1, 1.5, 3, 10),
  supervisorFraction: fc.constantFrom(0, 0.2, 0.5),
  createOps: fc.integer({ min: 0, max: 3 }),
  quotaError: rarely,
  createBlocked: rarely,
  atCapacity: fc.array(rarely, { minLength: TYPES.length, maxLength: TYPES.length }),
  maxContainers: limit(15),
  withinQuota: limit(6),
  last503: fc.constantFrom(0, 0, 500_000, 990_000),
  last503Seen: fc.constantFrom(0, 500_000),
  /** A third of the inputs have no blocker at all (see `opened`), so that starts and creates happen. */
  open: fc.constantFrom(false, false, true),
});

export type Generated = typeof inputArb extends fc.Arbitrary<infer G> ? G : never;

/**
 * Spot on top of a generated input: `<name>.preemptible` variants of TYPES (as
 * PreemptiblePriceFactor adds them), preemptible containers and instances, spot capacity,
 * lock counts, and containers a policy may have remembered in its state (`fallenBack`).
 */
export const spotArb = fc.record({
  priceFactor: fc.constantFrom(0.35, 0.9),
  preemptible: fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
  spotInstances: fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
  spotAtCapacity: fc.array(fc.boolean(), { minLength: TYPES.length, maxLength: TYPES.length }),
  lockCounts: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 40, maxLength: 40 }),
  fallenBack: fc.array(fc.integer({ min: 0, max: 39 }), { maxLength: 5 }),
  /** The base input `opened` (see there). */
  open: fc.boolean(),
});

export type GeneratedSpot = typeof spotArb extends fc.Arbitrary<infer G> ? G : never;

/** Inputs without spot (as `inputArb`) and with it, for properties every policy must keep. */
export const mixedInputArb = fc.record({ base: inputArb, spot: fc.option(spotArb, { nil: undefined }) });

export function buildMixed(m: { base: Generated; spot: GeneratedSpot | undefined }): MapperInput {
  return build(m.spot?.open === true ? { ...m.base, open: true } : m.base, m.spot);
}

/**
 * No quota error, create throttle or limit, 503 or concurrency limit, and MaxInstances above
 * the instance count (0 stays unlimited), so that locks, starts and creates happen while
 * MaxInstances still binds.
 */
function opened(g: Generated): Generated {
  const maxInstances = g.maxInstances === 0 ? 0 : g.insts.length + g.maxInstances;
  return { ...g, quotaError: false, createBlocked: false, maxContainers: 0, withinQuota: 0, last503: 0, last503Seen: 0, createOps: 0, maxInstances };
}

export function build(generated: Generated, spot?: GeneratedSpot): MapperInput {
  const g = generated.open ? opened(generated) : generated;
  const types: readonly InstanceType[] = spot === undefined ? TYPES : Object.values(autofillPreemptible(typeMap(TYPES), spot.priceFactor, 'InstanceTypes', []));
  const spotOf = (t: InstanceType): InstanceType => (spot === undefined ? t : types.find((x) => x.name === `${t.name}.preemptible`)!);
  const config: ClusterConfig = testCluster({
    types,
    containers: { MaximumPriceFactor: g.priceFactor },
    cloudVMs: {
      MaxInstances: g.maxInstances,
      MaxRunningContainersPerInstance: g.perInstance,
      SupervisorFraction: g.supervisorFraction,
      MaxConcurrentInstanceCreateOps: g.createOps,
    },
  });
  const sizing = new SizingCache(config);
  const entries = new Map<string, QueueEntry>();
  g.ctrs.forEach((c, i) => {
    const base = makeContainer(i, { state: c.state, priority: c.priority, vcpus: c.vcpus, ram: c.ramMiB * 2 ** 20, supervisor: c.supervisor, preemptible: spot?.preemptible[i] });
    const ctr = spot === undefined ? base : { ...base, lockCount: spot.lockCounts[i] };
    try {
      const s = sizing.size(ctr);
      entries.set(ctr.uuid, { container: ctr, resources: s.resources, instanceTypes: s.instanceTypes, firstSeenAt: c.firstSeen });
    } catch {
      // unsatisfiable: the queue would have cancelled it
    }
  });
  const running = new Map<string, number>();
  const claimed = new Set<string>();
  const instances: InstanceView[] = g.insts.map((x, i) => {
    // An idle worker runs nothing (the pool calls a worker with containers running).
    const runs = x.pending || x.state === 'idle'
      ? []
      : [...new Set(x.runs.map((n) => containerUuid(n)))].filter((uuid) => !claimed.has(uuid) && (claimed.add(uuid), true)).sort();
    for (const uuid of runs) running.set(uuid, 0);
    const suited = x.forCtr === undefined ? undefined : entries.get(containerUuid(x.forCtr))?.instanceTypes[0];
    const base = suited !== undefined && !suited.preemptible ? suited : TYPES[x.type]!;
    const type = spot?.spotInstances[i] === true ? spotOf(base) : base;
    return {
      instanceId: x.pending ? '' : `i-${String(i).padStart(4, '0')}`,
      address: '',
      price: type.price,
      instanceType: type,
      state: x.pending ? 'booting' : x.state,
      idleBehavior: x.pending ? 'run' : (x.behavior as InstanceView['idleBehavior']),
      runningContainerUuids: runs,
      lastContainerUuid: '',
      lastBusy: NOW - x.idleFor,
    };
  });
  const workerCounts = Object.fromEntries(WORKER_STATES.map((s) => [s, 0])) as Record<WorkerState, number>;
  for (const v of instances) if (v.instanceId !== '') workerCounts[v.state]++;
  const capacity = new Set(TYPES.filter((_, i) => g.atCapacity[i]).map((t) => t.name));
  if (spot !== undefined) {
    TYPES.forEach((t, i) => {
      if (spot.spotAtCapacity[i]) capacity.add(spotOf(t).name);
    });
  }
  const pool: PoolSnapshot = {
    instances,
    running,
    workerCounts,
    atQuota: g.quotaError || (g.maxInstances > 0 && instances.length >= g.maxInstances),
    createBlocked: g.createBlocked,
    atCapacity: (t) => capacity.has(t.name),
  };
  return {
    queue: { entries, updatedAt: NOW - 1000 },
    pool,
    config,
    now: NOW,
    last503: g.last503,
    state: {
      maxContainers: g.maxContainers,
      instancesWithinQuota: g.withinQuota,
      last503Seen: g.last503Seen,
      ...(spot !== undefined && spot.fallenBack.length > 0 ? { fallenBack: [...new Set(spot.fallenBack.map((n) => containerUuid(n)))].sort() } : {}),
    },
  };
}

/**
 * Counts the plans of a property run that lock, unlock, start, create and shut down, so that
 * a suite can show its inputs exercise every kind of action: a property over plans that
 * never start anything would hold whatever the mapper does.
 */
export class PlanCoverage {
  private readonly seen = { plans: 0, lock: 0, unlock: 0, start: 0, create: 0, shutdown: 0 };

  note(plan: { readonly lock: readonly unknown[]; readonly unlock: readonly unknown[]; readonly start: readonly unknown[]; readonly create: readonly unknown[]; readonly shutdown: readonly unknown[] }): void {
    this.seen.plans++;
    for (const k of ['lock', 'unlock', 'start', 'create', 'shutdown'] as const) if (plan[k].length > 0) this.seen[k]++;
  }

  /** Throws, naming the counts, unless each kind of action occurred in at least `fraction` of the plans. */
  check(fraction: number): void {
    const floor = Math.ceil(this.seen.plans * fraction);
    const short = (['lock', 'unlock', 'start', 'create', 'shutdown'] as const).filter((k) => this.seen[k] < floor);
    if (short.length > 0) throw new Error(`generated inputs too tame: ${short.join(', ')} in fewer than ${floor} of ${this.seen.plans} plans (${JSON.stringify(this.seen)})`);
  }
}

// A fixed seed keeps the suite deterministic; FC_SEED and FC_RUNS explore further.
export const runs = { numRuns: Number(process.env.FC_RUNS ?? 150), seed: process.env.FC_SEED === undefined ? 20261204 : Number(process.env.FC_SEED) };

