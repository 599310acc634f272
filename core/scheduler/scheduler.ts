import type { ClusterConfig } from '../config/cluster-config.js';
import type { Clock, Timer } from '../ports/clock.js';
import type { ControllerApi } from '../ports/controller.js';
import { describeError } from '../ports/errors.js';
import type { Logger } from '../ports/logger.js';
import type { Gauge, Metrics } from '../ports/metrics.js';
import type { PoolSnapshot, WorkerPool } from '../pool/pool-api.js';
import type { ContainerQueue } from '../queue/container-queue.js';
import type { QueueEntry, QueueSnapshot } from '../queue/queue-snapshot.js';
import { initialSchedulerState, type MapperPolicy, type Plan, type SchedulerState } from './policy.js';
import { fixStaleLocks } from './stale-locks.js';
import { STATUS_PREVIOUS_ATTEMPT, statusAtCapacity, statusAtQuota, statusWaitingForInstance } from './statuses.js';
import { planSync } from './sync-plan.js';

/** Retry delay for a per-container operation that found another one in flight. */
export const UUID_LOCK_RETRY_MS = 250;

export const SCHEDULER_STATES = ['new', 'starting', 'running', 'stopped'] as const;
export type SchedulerLifecycle = (typeof SCHEDULER_STATES)[number];

export interface SchedulerOptions {
  readonly config: ClusterConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly queue: ContainerQueue;
  readonly pool: WorkerPool;
  readonly controller: Pick<ControllerApi, 'last503'>;
  readonly policy: MapperPolicy;
  /** State to start from instead of initialSchedulerState(config) (tests, what-if runs). */
  readonly initialState?: SchedulerState;
}

/** A queue entry with its scheduling status, as the management API lists it. */
export interface ScheduledEntry {
  readonly entry: QueueEntry;
  readonly schedulingStatus: string;
}

/**
 * The scheduler (reference scheduler/scheduler.go): after the first queue poll and the
 * stale-lock fixer, runs the mapper policy and then the syncer whenever the queue or the
 * pool changes (several notifications in one instant make one pass), and carries out
 * their decisions through the queue and the pool. Per-container operations (lock, cancel,
 * requeue, kill) are serialised per uuid; a busy uuid makes the scheduler try again
 * UUID_LOCK_RETRY_MS later.
 */
export class Scheduler {
  private lifecycle: SchedulerLifecycle = 'new';
  private state: SchedulerState;
  private lastPlan: Plan | null = null;
  private readonly uuidOps = new Map<string, string>();
  private readonly background = new Set<Promise<void>>();
  private passTimer: Timer | null = null;
  private wakeupTimer: Timer | null = null;
  private unsubscribes: (() => void)[] = [];
  private readonly abort = new AbortController();
  private readonly logger: Logger;
  private readonly loggedUnexpected = new Set<string>();
  private running: Promise<void> | null = null;
  private readonly g: Record<string, Gauge>;
  private passes = 0;

  constructor(private readonly opts: SchedulerOptions) {
    this.state = opts.initialState ?? initialSchedulerState(opts.config);
    this.logger = opts.logger.child({ component: 'scheduler' });
    const m = opts.metrics;
    this.g = {
      allocated: m.gauge('containers_allocated_not_started', 'Containers allocated to a worker that has not started them yet'),
      overQuota: m.gauge('containers_not_allocated_over_quota', 'Containers not allocated because of quota or the supervisor limit'),
      longestWait: m.gauge('containers_longest_wait_time_seconds', 'Longest wait of a container not yet running'),
      last503: m.gauge('last_503_time', 'Time of the last 503 from the controller (unix seconds)'),
      maxConcurrent: m.gauge('max_concurrent_containers', 'Dynamic limit on concurrent containers'),
      atQuota: m.gauge('at_quota', 'Whether the pool is at quota'),
    };
  }

  /**
   * Start in the background: first queue poll (retried every max(PollInterval/10, 1s)),
   * the poll loop, the stale-lock fixer, then passes on notifications. Throws when called
   * twice.
   */
  start(): void {
    if (this.lifecycle !== 'new') throw new Error(`starting scheduler: already ${this.lifecycle}`);
    this.lifecycle = 'starting';
    this.running = this.run().catch((e: unknown) => this.logger.error('scheduler start-up failed', { error: describeError(e) }));
  }

  /** Stop timers and the poll loop; operations in flight finish on their own (see idle()). */
  stop(): void {
    if (this.lifecycle === 'stopped') return;
    this.lifecycle = 'stopped';
    this.abort.abort(new Error('scheduler stopped'));
    this.passTimer?.cancel();
    this.wakeupTimer?.cancel();
    this.passTimer = this.wakeupTimer = null;
    for (const u of this.unsubscribes) u();
    this.unsubscribes = [];
    this.opts.queue.stop();
  }

  get status(): SchedulerLifecycle {
    return this.lifecycle;
  }

  /** The state the next pass starts from. */
  get schedulerState(): SchedulerState {
    return this.state;
  }

  /** Passes run so far. */
  get passCount(): number {
    return this.passes;
  }

  /** Resolves once start-up is over and no operation started by the scheduler is in flight. */
  async idle(): Promise<void> {
    if (this.running !== null) await this.running;
    while (this.background.size > 0) await Promise.all([...this.background]);
    await this.opts.queue.idle();
  }

  /** Queue entries with their scheduling status, in the last pass's order (new ones last). */
  containers(): ScheduledEntry[] {
    const snap = this.opts.queue.snapshot();
    const out: ScheduledEntry[] = [];
    const seen = new Set<string>();
    for (const uuid of this.lastPlan?.order ?? []) {
      const entry = snap.entries.get(uuid);
      if (entry === undefined) continue;
      seen.add(uuid);
      out.push({ entry, schedulingStatus: this.lastPlan?.statuses.get(uuid) ?? '' });
    }
    for (const [uuid, entry] of snap.entries) if (!seen.has(uuid)) out.push({ entry, schedulingStatus: '' });
    return out;
  }

  container(uuid: string): ScheduledEntry | undefined {
    const entry = this.opts.queue.get(uuid);
    if (entry === undefined) return undefined;
    return { entry, schedulingStatus: this.lastPlan?.statuses.get(uuid) ?? '' };
  }

  /** Ask for a pass soon (coalesced: any number of calls in one instant make one pass). */
  trigger(): void {
    if (this.passTimer !== null || this.lifecycle !== 'running') return;
    this.passTimer = this.opts.clock.setTimer(0, () => {
      this.passTimer = null;
      this.runPass();
    });
  }

  /** One pass: mapper, then syncer, then metrics. Synchronous; effects start in the background. */
  runPass(): void {
    this.passes++;
    const { queue, pool, clock, controller, config, policy } = this.opts;
    const qs = queue.snapshot();
    const ps = pool.snapshot();
    let plan: Plan;
    try {
      plan = policy.plan({ queue: qs, pool: ps, config, now: clock.now(), last503: controller.last503(), state: this.state });
    } catch (e) {
      this.logger.error('mapper policy failed', { policy: policy.name, error: describeError(e) });
      return;
    }
    this.state = plan.state;
    const corrected = this.carryOut(plan, qs, ps);
    this.lastPlan = corrected.plan;
    // Fresh snapshots: carrying out the plan changed what the pool runs.
    const qs2 = queue.snapshot();
    const ps2 = pool.snapshot();
    this.sync(qs2, ps2);
    this.updateMetrics(corrected.plan, corrected.allocatedNotStarted, ps.atQuota, qs2, ps2);
  }

  private async run(): Promise<void> {
    const { queue, clock, config, pool } = this.opts;
    const retry = Math.max(config.Containers.CloudVMs.PollInterval / 10, 1000);
    for (;;) {
      if (this.stopped()) return;
      try {
        await queue.update();
        break;
      } catch (e) {
        this.logger.warn('error getting initial queue', { error: describeError(e) });
        try {
          await clock.sleep(retry, this.abort.signal);
        } catch {
          return;
        }
      }
    }
    if (this.stopped()) return;
    queue.startPolling();
    await fixStaleLocks({
      queue,
      pool,
      clock,
      logger: this.logger,
      timeoutMs: config.Containers.StaleLockTimeout,
      signal: this.abort.signal,
    });
    if (this.lifecycle !== 'starting') return;
    this.lifecycle = 'running';
    this.unsubscribes.push(queue.subscribe(() => this.trigger()), pool.subscribe(() => this.trigger()));
    this.trigger();
  }

  /** Carry out the plan; returns it with the statuses of refused actions corrected. */
  private carryOut(plan: Plan, qs: QueueSnapshot, ps: PoolSnapshot): { plan: Plan; allocatedNotStarted: number } {
    const { pool, queue } = this.opts;
    const statuses = new Map(plan.statuses);
    let allocatedNotStarted = plan.metrics.allocatedNotStarted;
    let qpos = plan.lastQueuePosition;

    for (const s of plan.start) {
      const ent = qs.entries.get(s.uuid);
      if (ent === undefined) continue;
      if (pool.killContainer(s.uuid, 'about to start')) {
        statuses.set(s.uuid, STATUS_PREVIOUS_ATTEMPT);
      } else if (!pool.startContainer(s.instanceId, ent.container)) {
        const view = ps.instances.find((i) => i.instanceId === s.instanceId);
        statuses.set(s.uuid, statusWaitingForInstance(view?.instanceType.name ?? ''));
        allocatedNotStarted++;
      }
    }
    for (const c of plan.create) {
      if (!pool.create(c.type)) {
        // Refused after all (a race with the pool's own limits): the next pass retries.
        qpos++;
        statuses.set(c.forUuid, ps.atQuota ? statusAtQuota(qpos) : statusAtCapacity(qpos));
        allocatedNotStarted--;
      }
    }
    for (const uuid of plan.lock) {
      if (!this.uuidLock(uuid, 'lock')) continue;
      if (pool.killContainer(uuid, 'about to lock')) {
        this.uuidUnlock(uuid);
        continue;
      }
      this.track(uuid, async () => {
        const ent = queue.get(uuid);
        if (ent === undefined || ent.container.state !== 'Queued') return;
        try {
          await queue.lock(uuid);
        } catch (e) {
          this.logger.warn('error locking container', { containerUuid: uuid, error: describeError(e) });
          return;
        }
        const after = queue.get(uuid);
        if (after !== undefined && after.container.state !== 'Locked') {
          this.logger.warn('(race?) container state changed after lock succeeded', { containerUuid: uuid, state: after.container.state });
        }
      });
    }
    for (const uuid of plan.unlock) {
      // Like the reference, over-quota unlocks bypass the per-uuid lock.
      this.track(null, async () => {
        try {
          await queue.unlock(uuid);
        } catch (e) {
          this.logger.warn('error unlocking', { containerUuid: uuid, error: describeError(e) });
        }
      });
    }
    for (const id of plan.shutdown) pool.shutdown(id);
    return { plan: { ...plan, statuses, lastQueuePosition: qpos }, allocatedNotStarted };
  }

  private sync(qs: QueueSnapshot, ps: PoolSnapshot): void {
    const { queue, pool } = this.opts;
    const sp = planSync(qs, ps);
    for (const a of sp.cancel) {
      if (!this.uuidLock(a.uuid, 'cancel')) continue;
      this.track(a.uuid, async () => {
        this.logger.info('cancelling container', { containerUuid: a.uuid, reason: a.reason });
        try {
          await queue.cancel(a.uuid);
        } catch (e) {
          this.logger.warn('error cancelling container', { containerUuid: a.uuid, error: describeError(e) });
        }
      });
    }
    for (const a of sp.kill) {
      if (!this.uuidLock(a.uuid, 'kill')) continue;
      this.logger.info('killing crunch-run', { containerUuid: a.uuid, reason: a.reason });
      pool.killContainer(a.uuid, a.reason);
      pool.forgetContainer(a.uuid);
      this.uuidUnlock(a.uuid);
    }
    for (const a of sp.requeue) {
      if (!this.uuidLock(a.uuid, 'requeue')) continue;
      this.track(a.uuid, async () => {
        this.logger.info('requeueing container', { containerUuid: a.uuid, reason: a.reason });
        try {
          await queue.unlock(a.uuid);
        } catch (e) {
          this.logger.warn('error requeueing container', { containerUuid: a.uuid, error: describeError(e) });
        }
      });
    }
    for (const uuid of sp.forget) queue.forget(uuid);
    for (const uuid of sp.unexpected) {
      if (this.loggedUnexpected.has(uuid)) continue;
      this.loggedUnexpected.add(uuid);
      this.logger.error('BUG: unexpected state', { containerUuid: uuid, state: queue.get(uuid)?.container.state });
    }
  }

  private updateMetrics(plan: Plan, allocatedNotStarted: number, atQuota: boolean, qs: QueueSnapshot, ps: PoolSnapshot): void {
    const now = this.opts.clock.now();
    const running = ps.running;
    let earliest = Infinity;
    for (const ent of qs.entries.values()) {
      const c = ent.container;
      if (c.priority > 0n && (c.state === 'Queued' || c.state === 'Locked') && !running.has(c.uuid)) {
        earliest = Math.min(earliest, c.createdAt);
      }
    }
    this.g.allocated!.set({}, allocatedNotStarted);
    this.g.overQuota!.set({}, plan.metrics.notAllocatedOverQuota);
    this.g.longestWait!.set({}, earliest === Infinity ? 0 : (now - earliest) / 1000);
    this.g.last503!.set({}, plan.metrics.last503Time);
    this.g.maxConcurrent!.set({}, plan.metrics.maxConcurrentContainers);
    this.g.atQuota!.set({}, atQuota ? 1 : 0);
  }

  private stopped(): boolean {
    return this.lifecycle === 'stopped';
  }

  private uuidLock(uuid: string, op: string): boolean {
    if (this.uuidOps.has(uuid)) {
      this.wakeup();
      return false;
    }
    this.uuidOps.set(uuid, op);
    return true;
  }

  private uuidUnlock(uuid: string): void {
    this.uuidOps.delete(uuid);
  }

  private wakeup(): void {
    if (this.lifecycle === 'stopped') return;
    this.wakeupTimer?.cancel();
    this.wakeupTimer = this.opts.clock.setTimer(UUID_LOCK_RETRY_MS, () => {
      this.wakeupTimer = null;
      this.trigger();
    });
  }

  /** Run `op` in the background, holding the uuid lock (if any) until it settles. */
  private track(uuid: string | null, op: () => Promise<void>): void {
    const p = op()
      .catch((e: unknown) => this.logger.error('background operation failed', { error: describeError(e) }))
      .finally(() => {
        if (uuid !== null) this.uuidUnlock(uuid);
        this.background.delete(p);
      });
    this.background.add(p);
  }
}
