import type { PoolSnapshot } from '../pool/pool-api.js';
import type { QueueSnapshot } from '../queue/queue-snapshot.js';

export interface SyncAction {
  readonly uuid: string;
  readonly reason: string;
}

/**
 * What the syncer (reference scheduler/sync.go) wants done to reconcile the queue with what
 * the workers run. `kill` means pool.killContainer then pool.forgetContainer; `requeue` is an
 * unlock; `cancel` sets the container Cancelled; `forget` drops the queue entry.
 */
export interface SyncPlan {
  readonly cancel: readonly SyncAction[];
  readonly kill: readonly SyncAction[];
  readonly requeue: readonly SyncAction[];
  readonly forget: readonly string[];
  /** Entries in a state the rules do not cover (logged once per process). */
  readonly unexpected: readonly string[];
}

/** The syncer's decisions, as a pure function of the two snapshots. */
export function planSync(queue: QueueSnapshot, pool: PoolSnapshot): SyncPlan {
  const anyUnknown = pool.workerCounts.unknown > 0;
  const running = pool.running;
  const qUpdated = queue.updatedAt;
  const cancel: SyncAction[] = [];
  const kill: SyncAction[] = [];
  const requeue: SyncAction[] = [];
  const forget: string[] = [];
  const unexpected: string[] = [];

  for (const [uuid, ent] of queue.entries) {
    const ctr = ent.container;
    const exited = running.get(uuid);
    const inPool = exited !== undefined;
    switch (ctr.state) {
      case 'Running':
        if (!inPool) {
          // Only when every worker has reported: an unknown one might be running it.
          if (!anyUnknown) cancel.push({ uuid, reason: 'not running on any worker' });
        } else if (exited !== 0 && qUpdated > exited) {
          cancel.push({ uuid, reason: 'state=Running after crunch-run exited' });
        } else if (ctr.priority === 0n) {
          kill.push({ uuid, reason: 'priority=0' });
        }
        break;
      case 'Complete':
      case 'Cancelled':
        if (inPool) kill.push({ uuid, reason: `state=${ctr.state}` });
        else forget.push(uuid);
        break;
      case 'Queued':
        if (inPool) kill.push({ uuid, reason: 'pool says running, but queue says state=Queued' });
        else if (ctr.priority === 0n) forget.push(uuid);
        break;
      case 'Locked':
        if (inPool && exited !== 0 && qUpdated > exited) {
          requeue.push({ uuid, reason: 'crunch-run exited' });
        } else if (inPool && exited === 0 && ctr.priority === 0n) {
          kill.push({ uuid, reason: 'priority=0' });
        } else if (!inPool && ctr.priority === 0n) {
          requeue.push({ uuid, reason: 'priority=0' });
        }
        break;
      default:
        unexpected.push(uuid);
    }
  }
  for (const uuid of running.keys()) {
    if (!queue.entries.has(uuid)) kill.push({ uuid, reason: 'not in queue' });
  }
  return { cancel, kill, requeue, forget, unexpected };
}
