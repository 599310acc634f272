import type { Container } from '../../core/domain/container.js';
import type { InstanceType } from '../../core/domain/instance-type.js';
import type { Resources } from '../../core/domain/resources.js';

/** One container of the dispatcher's queue as the management API shows it (a QueueEnt). */
export interface QueueViewEntry {
  readonly container: Container;
  /** What the container needs of an instance (the reference's InstanceResourcesNeeded). */
  readonly resources: Resources;
  /** Eligible instance types, in the order the dispatcher would try them (cheapest first). */
  readonly instanceTypes: readonly InstanceType[];
  /** When the queue first saw the container, ms since the epoch; 0 = unknown. */
  readonly firstSeenAt: number;
  /** The scheduler's status text for the container ('' when it has none), as the reference words it. */
  readonly schedulingStatus: string;
}

/**
 * The queue as the management API reads it. The daemon adapts the dispatcher to it.
 *
 * Contract: `entries()` returns the containers of the scheduler's latest pass, in the
 * scheduler's order (the order the mapper considered them), without side effects; it may be
 * called from the HTTP server at any time and must not throw. The management API calls it at
 * most once a second (the reference's schedQueueRefresh) and serves the cached result
 * in between.
 */
export interface QueueView {
  entries(): readonly QueueViewEntry[];
}

/** What the scheduler offers (core/scheduler/scheduler.ts `containers()`), structurally. */
export interface ScheduledEntriesSource {
  containers(): readonly { readonly entry: Omit<QueueViewEntry, 'schedulingStatus'>; readonly schedulingStatus: string }[];
}

/** The QueueView of a scheduler: its entries in its last pass's order, with their statuses. */
export function queueViewOf(source: ScheduledEntriesSource): QueueView {
  return {
    entries: () =>
      source.containers().map(({ entry, schedulingStatus }) => ({
        container: entry.container,
        resources: entry.resources,
        instanceTypes: entry.instanceTypes,
        firstSeenAt: entry.firstSeenAt,
        schedulingStatus,
      })),
  };
}
