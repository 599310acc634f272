import type { Clock } from '../ports/clock.js';
import { describeError } from '../ports/errors.js';
import type { Logger } from '../ports/logger.js';
import type { PoolSnapshot, WorkerPool } from '../pool/pool-api.js';
import type { ContainerQueue } from '../queue/container-queue.js';
import type { QueueSnapshot } from '../queue/queue-snapshot.js';

export interface StaleLockOptions {
  readonly queue: ContainerQueue;
  readonly pool: WorkerPool;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Containers.StaleLockTimeout (ms). */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/** Locked containers no worker reports running. */
export function staleLocked(queue: QueueSnapshot, pool: PoolSnapshot): string[] {
  const out: string[] = [];
  for (const [uuid, ent] of queue.entries) {
    if (ent.container.state === 'Locked' && !pool.running.has(uuid)) out.push(uuid);
  }
  return out.sort();
}

/**
 * The stale-lock fixer (reference fix_stale_locks.go), run once at start-up after the first
 * queue poll. While workers are still in state unknown (not yet probed), wait for them to
 * report, up to the timeout; then unlock the Locked containers that nobody runs. When no
 * worker is unknown at the start, it unlocks nothing: the mapper then treats those
 * containers as ours to start.
 *
 * Decision (reference quirk): the list to unlock is recomputed after the last wait, so a
 * container that the last report revealed as running is not unlocked (and then killed).
 * Unlock errors are logged, not thrown.
 */
export async function fixStaleLocks(opts: StaleLockOptions): Promise<void> {
  const { queue, pool, clock, logger } = opts;
  await pool.whenLoaded();
  const deadline = clock.now() + opts.timeoutMs;
  let sawUnknown = false;
  for (;;) {
    const ps = pool.snapshot();
    if (ps.workerCounts.unknown === 0) break;
    sawUnknown = true;
    if (staleLocked(queue.snapshot(), ps).length === 0) return;
    const left = deadline - clock.now();
    if (left <= 0) break;
    if (!(await waitForPool(pool, clock, left, opts.signal))) break;
  }
  if (!sawUnknown || opts.signal?.aborted) return;
  const stale = staleLocked(queue.snapshot(), pool.snapshot());
  for (const uuid of stale) {
    logger.info('unlocking stale lock', { containerUuid: uuid });
    try {
      await queue.unlock(uuid);
    } catch (e) {
      logger.warn('error unlocking stale lock', { containerUuid: uuid, error: describeError(e) });
    }
  }
}

/** Resolves true on the next pool notification, false on timeout or abort. */
function waitForPool(pool: WorkerPool, clock: Clock, ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    let done = false;
    let unsubscribe = () => {};
    let timer: { cancel(): void } = { cancel() {} };
    const finish = (v: boolean) => {
      if (done) return;
      done = true;
      unsubscribe();
      timer.cancel();
      signal?.removeEventListener('abort', onAbort);
      resolve(v);
    };
    const onAbort = () => finish(false);
    unsubscribe = pool.subscribe(() => finish(true));
    timer = clock.setTimer(ms, () => finish(false));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
