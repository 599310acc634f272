import type { ClusterConfig } from '../config/cluster-config.js';
import type { InstanceType } from '../domain/instance-type.js';
import type { PoolSnapshot } from '../pool/pool-api.js';
import type { QueueSnapshot } from '../queue/queue-snapshot.js';

/**
 * What must survive from one mapper pass to the next. Policies receive it and return the
 * next value in their plan, so that `plan` stays a pure function.
 */
export interface SchedulerState {
  /** Dynamic concurrency limit; 0 = unlimited. */
  readonly maxContainers: number;
  /** Instance count at the last quota hit; 0 = no quota hit seen yet. */
  readonly instancesWithinQuota: number;
  /** The controller 503 time (ms) the last pass already reacted to; 0 = none. */
  readonly last503Seen: number;
}

/** The reference's initial state: InitialQuotaEstimate if set, else MaxInstances. */
export function initialSchedulerState(config: ClusterConfig): SchedulerState {
  const vms = config.Containers.CloudVMs;
  return {
    maxContainers: vms.InitialQuotaEstimate > 0 ? vms.InitialQuotaEstimate : vms.MaxInstances,
    instancesWithinQuota: 0,
    last503Seen: 0,
  };
}

export interface MapperInput {
  readonly queue: QueueSnapshot;
  readonly pool: PoolSnapshot;
  readonly config: ClusterConfig;
  /** ms since the epoch. */
  readonly now: number;
  /** Time (ms) of the controller's last 503, 0 = never (ControllerApi.last503()). */
  readonly last503: number;
  readonly state: SchedulerState;
}

export interface PlannedStart {
  readonly instanceId: string;
  readonly uuid: string;
}

export interface PlannedCreate {
  readonly type: InstanceType;
  /** The container the new instance is created for. */
  readonly forUuid: string;
}

export interface PlanMetrics {
  readonly allocatedNotStarted: number;
  readonly notAllocatedOverQuota: number;
  readonly maxConcurrentContainers: number;
  /** Unix seconds of the last 503, 0 = never. */
  readonly last503Time: number;
}

/**
 * One mapper pass, as data. The scheduler carries it out in this order: starts, creates,
 * locks, unlocks, shutdowns. Every list is in the order the policy decided it (queue
 * order), and `statuses` assumes every action succeeds; the scheduler corrects the status
 * of an action the pool or controller refuses.
 */
export interface Plan {
  /** Every queue entry, in the policy's order (the management API lists them so). */
  readonly order: readonly string[];
  /** uuid → scheduling status text ('' when none). */
  readonly statuses: ReadonlyMap<string, string>;
  readonly lock: readonly string[];
  readonly unlock: readonly string[];
  readonly start: readonly PlannedStart[];
  readonly create: readonly PlannedCreate[];
  readonly shutdown: readonly string[];
  /** The largest queue position in `statuses` (statuses for refused creates continue from it). */
  readonly lastQueuePosition: number;
  readonly state: SchedulerState;
  readonly metrics: PlanMetrics;
}

/**
 * A mapper policy: a pure function from the queue and pool snapshots (and config, time,
 * and the state it returned last time) to a plan. It must not call anything with effects,
 * read clocks, or keep state of its own; the same input must give the same plan.
 */
export interface MapperPolicy {
  /** Lower-case, used as `--policy NAME`. */
  readonly name: string;
  /** One line, for `vmdispatch policies`. */
  readonly description: string;
  plan(input: MapperInput): Plan;
}
