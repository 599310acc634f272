import type { ClusterConfig } from './config/cluster-config.js';
import type { Clock } from './ports/clock.js';
import type { ControllerApi } from './ports/controller.js';
import type { Logger } from './ports/logger.js';
import type { Metrics } from './ports/metrics.js';
import type { InstanceView, WorkerPool } from './pool/pool-api.js';
import { ContainerQueue } from './queue/container-queue.js';
import { SizingCache } from './queue/sizing-cache.js';
import type { MapperPolicy } from './scheduler/policy.js';
import { Scheduler, type ScheduledEntry } from './scheduler/scheduler.js';

export const DISPATCHER_STATES = ['initialized', 'running', 'stopped'] as const;
export type DispatcherState = (typeof DISPATCHER_STATES)[number];

export interface DispatcherOptions {
  readonly config: ClusterConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly controller: ControllerApi;
  readonly pool: WorkerPool;
  readonly policy: MapperPolicy;
}

/**
 * The dispatcher loop: the container queue and the scheduler wired to a worker pool over
 * the ports (reference dispatcher.go + scheduler.Start). The same object runs in the daemon
 * and in the simulator.
 *
 * Start order: pool, then the scheduler (first queue poll, poll loop, stale-lock fixer, then
 * a mapper+syncer pass on every queue or pool change). Stop order: scheduler (and its poll
 * loop), then pool. Cloud VMs and containers are left as they are.
 */
export class Dispatcher {
  readonly queue: ContainerQueue;
  readonly scheduler: Scheduler;
  private lifecycle: DispatcherState = 'initialized';

  constructor(private readonly opts: DispatcherOptions) {
    const logger = opts.logger;
    this.queue = new ContainerQueue({
      controller: opts.controller,
      clock: opts.clock,
      logger,
      metrics: opts.metrics,
      cluster: opts.config,
      sizing: new SizingCache(opts.config),
    });
    this.scheduler = new Scheduler({
      config: opts.config,
      clock: opts.clock,
      logger,
      metrics: opts.metrics,
      queue: this.queue,
      pool: opts.pool,
      controller: opts.controller,
      policy: opts.policy,
    });
  }

  get state(): DispatcherState {
    return this.lifecycle;
  }

  get policy(): MapperPolicy {
    return this.opts.policy;
  }

  /** Throws when not in state initialized. */
  start(): void {
    if (this.lifecycle !== 'initialized') throw new Error(`starting dispatcher: state is ${this.lifecycle}`);
    this.lifecycle = 'running';
    this.opts.pool.start();
    this.scheduler.start();
  }

  /** Idempotent. Background operations in flight settle on their own; see idle(). */
  stop(): void {
    if (this.lifecycle === 'stopped') return;
    this.lifecycle = 'stopped';
    this.scheduler.stop();
    this.opts.pool.stop();
  }

  /** Resolves when start-up is done and no queue or scheduler operation is in flight. */
  idle(): Promise<void> {
    return this.scheduler.idle();
  }

  /** Queue entries with scheduling status, in the scheduler's order (management API). */
  containers(): ScheduledEntry[] {
    return this.scheduler.containers();
  }

  /** One entry, or undefined when the queue does not hold it. */
  container(uuid: string): ScheduledEntry | undefined {
    return this.scheduler.container(uuid);
  }

  instances(): readonly InstanceView[] {
    return this.opts.pool.snapshot().instances;
  }
}
