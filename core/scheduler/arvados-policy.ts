import { isSupervisor } from '../domain/container.js';
import type { InstanceType } from '../domain/instance-type.js';
import type { Resources } from '../domain/resources.js';
import { subtract, typeResources } from '../domain/node-size.js';
import type { QueueEntry } from '../queue/queue-snapshot.js';
import { compareSlots, InstanceIndex, isReady, NO_RESOURCES } from './instance-index.js';
import type { MapperInput, MapperPolicy, Plan, PlannedCreate, PlannedStart } from './policy.js';
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

/**
 * The reference mapper (lib/dispatchcloud/scheduler/run_queue.go) as a pure function.
 * Recomputed from scratch every pass; the only assignments that persist are the containers
 * the pool reports starting or running.
 */
export function planArvados(input: MapperInput): Plan {
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
  let pendingCreates = 0;
  for (const view of pool.instances) {
    if (view.instanceId === '') pendingCreates++;
    let remaining: Resources = typeResources(view.instanceType);
    for (const uuid of view.runningContainerUuids) {
      const ent = queue.entries.get(uuid);
      // A container we cannot size might fill the instance: assume it does.
      remaining = ent === undefined ? NO_RESOURCES : subtract(remaining, ent.resources);
    }
    index.add(view, remaining);
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
  let trying = running.size;
  let supervisors = 0;
  let qpos = 0;
  let allocatedNotStarted = 0;
  let overquotaFrom = -1;
  const overMaxSuper: QueueEntry[] = [];

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
        overquotaFrom = i;
        break;
      }
      if (best === null && availableType === undefined) continue;
      // No create for a Queued container: that waits until it is Locked.
      lock.push(uuid);
      if (best !== null) index.allocate(best, uuid, ent.resources);
      continue;
    }

    // Locked.
    if (best !== null) {
      index.allocate(best, uuid, ent.resources);
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
      // Don't let lower-priority containers starve this one by keeping idle workers of
      // other types alive.
      overquotaFrom = i;
      break;
    }
    if (availableType === undefined) {
      qpos++;
      statuses.set(uuid, statusAtCapacityForTypes(qpos, ent.instanceTypes.map((t) => t.name)));
      continue;
    }
    if (!canCreate()) continue;
    create.push({ type: availableType, forUuid: uuid });
    created++;
    statuses.set(uuid, statusWaitingForInstance(availableType.name));
    allocatedNotStarted++;
    index.addCreated(availableType, uuid, ent.resources);
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

  const shutdown: string[] = [];
  if (overquota.length > 0) {
    // In instance order, so the plan does not depend on the snapshot's order.
    for (const s of [...index.slots].sort(compareSlots)) {
      if (s.uuids.length === 0 && s.id !== '' && (s.state === 'booting' || s.state === 'idle') && s.idleBehavior !== 'hold') {
        shutdown.push(s.id);
      }
    }
  }

  const order = sorted.map((e) => e.container.uuid);
  for (const uuid of order) if (!statuses.has(uuid)) statuses.set(uuid, '');
  return {
    order,
    statuses,
    lock,
    unlock,
    start,
    create,
    shutdown,
    lastQueuePosition: qpos,
    state: { maxContainers, instancesWithinQuota, last503Seen },
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

export const arvadosPolicy: MapperPolicy = {
  name: 'arvados',
  description:
    'the reference arvados-dispatch-cloud mapper: priority order, packing onto busy then ready VMs, cheapest eligible type, slow start and quota back-off',
  plan: planArvados,
};
