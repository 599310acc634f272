import type { ContainerState } from '../../core/domain/container.js';
import type { Rec, Req } from './records.js';

/** How a container request ended, by the final state of its last container. */
export type Outcome = 'complete' | 'failed' | 'cancelled' | 'unfinished';

export interface RequestOutcome {
  readonly requestId: string;
  readonly outcome: Outcome;
  /** Containers made for it, first included. */
  readonly containers: number;
  /** Replacement containers made for it. */
  readonly retried: number;
  /** Its container_count_max. */
  readonly containerCountMax: number;
  readonly lastUuid: string;
}

/** summary.json `containers` (CONTRACTS.md §3), minus what only the simulator knows (lost, doubleStarts). */
export interface OutcomeCounts {
  readonly total: number;
  readonly complete: number;
  readonly cancelled: number;
  readonly failed: number;
  readonly unfinished: number;
  readonly retried: number;
  readonly maxLockCount: number;
}

/** A containers.csv row as the controller knows it; times in ms on the stub's clock, null where not applicable. */
export interface ContainerRow {
  readonly uuid: string;
  readonly request: string;
  /** The request's priority as submitted (what the workload asked for). */
  readonly priority: bigint;
  /** The container's priority as the API reports it. */
  readonly containerPriority: bigint;
  readonly submitted: number;
  readonly started: number | null;
  readonly finished: number | null;
  readonly state: ContainerState;
  readonly exitCode: number | null;
  readonly lockCount: number;
}

function outcomeOf(last: Rec): Outcome {
  if (last.state === 'Complete') return last.exitCode === 0 ? 'complete' : 'failed';
  if (last.state === 'Cancelled') return 'cancelled';
  return 'unfinished';
}

export function summarizeOutcomes(requests: Iterable<Req>): { counts: OutcomeCounts; requests: RequestOutcome[] } {
  const out: RequestOutcome[] = [];
  const c = { total: 0, complete: 0, cancelled: 0, failed: 0, unfinished: 0, retried: 0, maxLockCount: 0 };
  for (const req of requests) {
    const last = req.containers[req.containers.length - 1]!;
    const outcome = outcomeOf(last);
    const retried = req.containers.length - 1;
    out.push({ requestId: req.spec.id, outcome, containers: req.containers.length, retried, containerCountMax: req.containerCountMax, lastUuid: last.uuid });
    c.total++;
    c[outcome]++;
    c.retried += retried;
    for (const r of req.containers) c.maxLockCount = Math.max(c.maxLockCount, r.lockCount);
  }
  return { counts: c, requests: out };
}

export function containerRows(all: readonly Rec[]): ContainerRow[] {
  return all.map((r) => ({
    uuid: r.uuid,
    request: r.req.spec.id,
    priority: r.req.spec.priority,
    containerPriority: r.priority,
    submitted: r.createdAt,
    started: r.startedAt,
    finished: r.finishedAt,
    state: r.state,
    exitCode: r.exitCode,
    lockCount: r.lockCount,
  }));
}
