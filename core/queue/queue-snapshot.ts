import type { Container } from '../domain/container.js';
import type { InstanceType } from '../domain/instance-type.js';
import type { Resources } from '../domain/resources.js';

/**
 * One container as the queue knows it (the reference's QueueEnt). `resources` and
 * `instanceTypes` are computed once, when the container is first seen, and never again.
 */
export interface QueueEntry {
  readonly container: Container;
  /** What the container needs on an instance (node-size.ts `resourcesNeeded`). */
  readonly resources: Resources;
  /** Eligible types, cheapest first (node-size.ts `chooseInstanceType`); [] only for
   * containers first seen in a state other than Queued/Locked whose choice failed. */
  readonly instanceTypes: readonly InstanceType[];
  /** ms since the epoch. Ties between equal priorities are broken by this, then uuid. */
  readonly firstSeenAt: number;
}

/**
 * The queue at one instant. `updatedAt` is the start time of the last completed poll:
 * a crunch-run exit at time t is reflected in the entries only if `updatedAt > t`.
 */
export interface QueueSnapshot {
  readonly entries: ReadonlyMap<string, QueueEntry>;
  readonly updatedAt: number;
}
