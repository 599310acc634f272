// The reference mapper (lib/dispatchcloud/scheduler/run_queue.go) as a pure function, with
// hooks, so that other policies change only what they mean to change and keep every rule
// and limit of the reference: sort order, dynamic concurrency limit, supervisor limit,
// quota and capacity handling, create limits, over-quota unlocks and shutdowns. With no
// hooks it is the `arvados` policy (arvados-policy.ts).
import { isSupervisor } from '../domain/container.js';
import type { InstanceType } from '../domain/instance-type.js';
import type { Resources } from '../domain/resources.js';
import { subtract, typeResources } from '../domain/node-size.js';
import type { InstanceView } from '../pool/pool-api.js';
import type { QueueEntry } from '../queue/queue-snapshot.js';
import { compareSlots, InstanceIndex, isReady, NO_RESOURCES, type Slot } from './instance-index.js';
import type { MapperInput, Plan, PlannedCreate, PlannedStart, SchedulerState } from './policy.js';
import {
  STATUS_PREPARING,
  statusAtCapacity,
  statusAtCapacityForTypes,
  statusAtQuota,
  statusPriorityZero,
  statusWaitingForInstance,
  statusWorkflowQueue,
} from './statuses.js';

/** After a 503, the concurrency limit only grows again once this long has passed quietly. */
export const QUIET_AFTER_503_MS = 60_000;

/** What a create hook sees when the pass is about to create an instance. */
export interface CreateContext {
  /** The Locked container the instance is for. */
  readonly entry: QueueEntry;
  /** Its eligible types not at capacity, cheapest first; never empty. */
  readonly available: readonly InstanceType[];
  /** Every entry in pass order, and the position of `entry` in it. */
  readonly sorted: readonly QueueEntry[];
  readonly position: number;
  /** The pass's instances so far (read only: a hook must not allocate). */
  readonly index: InstanceIndex;
  readonly input: MapperInput;
  /** Whether a later entry could still be started or created for in this pass. */
  readonly canStillRun: (ent: QueueEntry) => boolean;
  /** How many more containers the concurrency limit lets this pass try (Infinity = no limit). */
  readonly budget: number;
}

/** What a shutdown hook sees once every container has been placed. */
export interface ShutdownContext {
  readonly input: MapperInput;
  /**
   * Real instances (not pending creates) in state booting or idle, behaviour `run`, with
   * nothing running, starting or allocated in this pass, in instance order: the only
   * instances a policy may shut down.
   */
  readonly candidates: readonly { readonly slot: Slot; readonly view: InstanceView }[];
  /** Names of the eligible types of Queued/Locked containers (priority > 0) left unplaced. */
  readonly wantedTypes: ReadonlySet<string>;
  /** Every instance of the pass with what is left on it (read only). */
  readonly slots: readonly Slot[];
  /** True when the pass stopped at quota (every candidate is then shut down anyway). */
  readonly overQuota: boolean;
}

export interface PassHooks {
  /** The type to create; must be one of `ctx.available`. Default: the first (cheapest). */
  chooseCreateType?(ctx: CreateContext): InstanceType;
  /** Instance ids to shut down besides the over-quota ones; must be among `ctx.candidates`. */
  extraShutdowns?(ctx: ShutdownContext): readonly string[];
  /** The state to return, given the state the reference rules computed. */
  nextState?(computed: SchedulerState, input: MapperInput): SchedulerState;
}

/**
 * One mapper pass with the arvados rules and the given hooks (see the file comment).
 * Recomputed from scratch every pass; the only assignments that persist are the containers
 * the pool reports starting or running.
 */
export function planPass(input: MapperInput, hooks: PassHooks = {}): Plan {
  const { queue, pool, config, now, last503 } = input;
  const vms = config.Containers.CloudVMs;
  const running = pool.running;
  const sorted = sortEntries(queue.entries, running);

  let totalInstances = 0;
  for (const n of Object.values(pool.workerCounts)) totalInstances += n;

  // Dynamic concurrency limit (slow start, 503 back-off, quota memory).
  let { maxContainers, instancesWithinQuota, last503Seen } = input.state;
  if (last503 > last503Seen) {
    maxContainers = Math.max(1, running.size - 1);
    last503Seen = last503;
  } else if (maxContainers > 0 && (last503 === 0 || now - last503 > QUIET_AFTER_503_MS)) {
    // Never having seen a 503 counts as quiet: slow start applies from the first pass.
    maxContainers = Math.max(maxContainers, Math.floor((running.size * 11) / 10) + 1);
  }
  if (instancesWithinQuota > 0 && instancesWithinQuota < totalInstances) instancesWithinQuota = totalInstances;
  if (pool.atQuota) {
    if (maxContainers === 0 || maxContainers > totalInstances) maxContainers = Math.max(1, totalInstances);
    instancesWithinQuota = totalInstances;
  } else if (instancesWithinQuota > 0 && maxContainers > instancesWithinQuota + 1) {
    maxContainers = instancesWithinQuota + 1;
  }
  let maxSupervisors = Math.floor(maxContainers * vms.SupervisorFraction);
  if (maxSupervisors < 1 && vms.SupervisorFraction > 0 && maxContainers > 0) maxSupervisors = 1;

  // Instances with what is left on them once their running containers are counted.
  const index = new InstanceIndex(vms.MaxRunningContainersPerInstance);
  const views = new Map<Slot, InstanceView>();
  let pendingCreates = 0;
  for (const view of pool.instances) {
    if (view.instanceId === '') pendingCreates++;
    let remaining: Resources = typeResources(view.instanceType);
    for (const uuid of view.runningContainerUuids) {
      const ent = queue.entries.get(uuid);
      // A container we cannot size might fill the instance: assume it does.
      remaining = ent === undefined ? NO_RESOURCES : subtract(remaining, ent.resources);
    }
    views.set(index.add(view, remaining), view);
  }

  let created = 0;
  const atQuota = () => pool.atQuota || (vms.MaxInstances > 0 && pool.instances.length + created >= vms.MaxInstances);
  const createLimit = vms.MaxConcurrentInstanceCreateOps;
  const canCreate = () => !pool.createBlocked && (createLimit <= 0 || pendingCreates + created < createLimit);
  const capacityCache = new Map<string, boolean>();
  const atCapacity = (t: InstanceType): boolean => {
    const key = `${t.providerType}, preemptible=${t.preemptible}`;
    let v = capacityCache.get(key);
    if (v === undefined) {
      v = pool.atCapacity(t);
      capacityCache.set(key, v);
    }
    return v;
  };

  const statuses = new Map<string, string>();
  const lock: string[] = [];
  const start: PlannedStart[] = [];
  const create: PlannedCreate[] = [];
  const placed = new Set<string>();
  let trying = running.size;
  let supervisors = 0;
  let qpos = 0;
  let allocatedNotStarted = 0;
  let overquotaFrom = -1;
  const overMaxSuper: QueueEntry[] = [];
  const canStillRun = (ent: QueueEntry): boolean =>
    ent.container.state === 'Locked' && ent.container.priority >= 1n && !running.has(ent.container.uuid) && !placed.has(ent.container.uuid);

  for (let i = 0; i < sorted.length; i++) {
    const ent = sorted[i]!;
    const ctr = ent.container;
    const uuid = ctr.uuid;
    const supervisor = isSupervisor(ctr);
    if (supervisor) supervisors++;
    if (running.has(uuid)) {
      if (ctr.state === 'Queued' || ctr.state === 'Locked') statuses.set(uuid, STATUS_PREPARING);
      continue;
    }
    if (ctr.priority < 1n) {
      statuses.set(uuid, statusPriorityZero(ctr.state));
      continue;
    }
    if (supervisor && maxSupervisors > 0 && supervisors > maxSupervisors) {
      overMaxSuper.push(ent);
      statuses.set(uuid, statusWorkflowQueue(overMaxSuper.length));
      continue;
    }
    if (ctr.state !== 'Queued' && ctr.state !== 'Locked') continue;
    if (maxContainers > 0 && trying >= maxContainers) continue;
    trying++;
    const best = index.best(ent.instanceTypes, ent.resources);
    const availableType = ent.instanceTypes.find((t) => !atCapacity(t));

    if (ctr.state === 'Queued') {
      if (best === null && atQuota()) {
        // Don't let lower-priority containers starve this one by keeping idle workers of
        // other types alive.
        overquotaFrom = i;
        break;
      }
      if (best === null && availableType === undefined) continue;
      // No create for a Queued container: that waits until it is Locked.
      lock.push(uuid);
      // Locked.
      if (best !== null) {
        index.allocate(best, uuid, ent.resources);
        placed.add(uuid);
      }
      continue;
    }

    if (best !== null) {
      index.allocate(best, uuid, ent.resources);
      placed.add(uuid);
      if (best.id === '' || !isReady(best)) {
        statuses.set(uuid, statusWaitingForInstance(best.type.name));
        allocatedNotStarted++;
      } else {
        start.push({ instanceId: best.id, uuid });
        statuses.set(uuid, STATUS_PREPARING);
      }
      continue;
    }
    if (atQuota()) {
      overquotaFrom = i;
      break;
    }
    if (availableType === undefined) {
      qpos++;
      statuses.set(uuid, statusAtCapacityForTypes(qpos, ent.instanceTypes.map((t) => t.name)));
      continue;
    }
    if (!canCreate()) continue;
    let type = availableType;
    if (hooks.chooseCreateType !== undefined) {
      const available = ent.instanceTypes.filter((t) => !atCapacity(t));
      const budget = maxContainers > 0 ? maxContainers - trying : Infinity;
      const chosen = hooks.chooseCreateType({ entry: ent, available, sorted, position: i, index, input, canStillRun, budget });
      // A hook can only pick among the eligible types not at capacity.
      if (available.includes(chosen)) type = chosen;
    }
    create.push({ type, forUuid: uuid });
    created++;
    placed.add(uuid);
    statuses.set(uuid, statusWaitingForInstance(type.name));
    allocatedNotStarted++;
    index.addCreated(type, uuid, ent.resources);
  }

  const overquota = overquotaFrom >= 0 ? sorted.slice(overquotaFrom) : [];
  const quotaAtEnd = atQuota();
  for (const ent of sorted) {
    const c = ent.container;
    if ((c.state === 'Queued' || c.state === 'Locked') && !statuses.has(c.uuid)) {
      qpos++;
      statuses.set(c.uuid, quotaAtEnd ? statusAtQuota(qpos) : statusAtCapacity(qpos));
    }
  }

  const unlock: string[] = [];
  if (overquota.length > 0 || overMaxSuper.length > 0) {
    // Keep the next in line locked while instances exist, so a persisting quota does not
    // burn its dispatch attempts; with no instances at all, let everything cycle.
    const candidates = [...overMaxSuper, ...(totalInstances > 0 ? overquota.slice(1) : overquota)];
    for (const ent of candidates) {
      if (ent.container.state === 'Locked' && !running.has(ent.container.uuid)) unlock.push(ent.container.uuid);
    }
  }

  // Empty booting and idle instances, in instance order so the plan does not depend on the
  // snapshot's order; computed only when something will shut instances down.
  const idleSlots =
    overquota.length > 0 || hooks.extraShutdowns !== undefined
      ? [...index.slots]
          .sort(compareSlots)
          .filter((s) => s.uuids.length === 0 && s.id !== '' && (s.state === 'booting' || s.state === 'idle') && s.idleBehavior !== 'hold')
      : [];
  const shutdown: string[] = overquota.length > 0 ? idleSlots.map((s) => s.id) : [];
  if (hooks.extraShutdowns !== undefined) {
    const candidates = idleSlots.filter((s) => s.idleBehavior === 'run').map((slot) => ({ slot, view: views.get(slot)! }));
    const wantedTypes = new Set<string>();
    // Entries of one shape share their type list (the sizing cache), so each list is read once.
    const seenLists = new Set<readonly InstanceType[]>();
    for (const ent of candidates.length > 0 ? sorted : []) {
      const c = ent.container;
      if ((c.state === 'Queued' || c.state === 'Locked') && c.priority >= 1n && !running.has(c.uuid) && !placed.has(c.uuid)) {
        if (seenLists.has(ent.instanceTypes)) continue;
        seenLists.add(ent.instanceTypes);
        for (const t of ent.instanceTypes) wantedTypes.add(t.name);
      }
    }
    const allowed = new Set(candidates.map((c) => c.slot.id));
    const already = new Set(shutdown);
    for (const id of hooks.extraShutdowns({ input, candidates, wantedTypes, slots: index.slots, overQuota: overquota.length > 0 })) {
      if (allowed.has(id) && !already.has(id)) {
        shutdown.push(id);
        already.add(id);
      }
    }
  }

  const order = sorted.map((e) => e.container.uuid);
  for (const uuid of order) if (!statuses.has(uuid)) statuses.set(uuid, '');
  const computed: SchedulerState = { ...input.state, maxContainers, instancesWithinQuota, last503Seen };
  return {
    order,
    statuses,
    lock,
    unlock,
    start,
    create,
    shutdown,
    lastQueuePosition: qpos,
    state: hooks.nextState !== undefined ? hooks.nextState(computed, input) : computed,
    metrics: {
      allocatedNotStarted,
      notAllocatedOverQuota: overquota.length + overMaxSuper.length,
      maxConcurrentContainers: maxContainers,
      last503Time: Math.floor(last503 / 1000),
    },
  };
}

/** Running first, then Locked before Queued, priority, first seen, and uuid for determinism. */
export function sortEntries(entries: ReadonlyMap<string, QueueEntry>, running: ReadonlyMap<string, number>): QueueEntry[] {
  const keyed: { ent: QueueEntry; rank: number }[] = [];
  for (const ent of entries.values()) {
    const rank = (running.has(ent.container.uuid) ? 0 : 2) + (ent.container.state === 'Locked' ? 0 : 1);
    keyed.push({ ent, rank });
  }
  keyed.sort((a, b) => {
    if (a.rank !== b.rank) return a.rank - b.rank;
    const pa = a.ent.container.priority;
    const pb = b.ent.container.priority;
    if (pa !== pb) return pa > pb ? -1 : 1;
    if (a.ent.firstSeenAt !== b.ent.firstSeenAt) return a.ent.firstSeenAt - b.ent.firstSeenAt;
    const ua = a.ent.container.uuid;
    const ub = b.ent.container.uuid;
    return ua < ub ? -1 : ua > ub ? 1 : 0;
  });
  return keyed.map((k) => k.ent);
}
