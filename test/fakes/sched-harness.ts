// Wires a real ContainerQueue and Scheduler to the fake controller and fake pool on the
// virtual clock, for scheduler tests named after the reference's run_queue/sync tests.
import type { ClusterConfig } from '../../core/config/cluster-config.js';
import type { Container } from '../../core/domain/container.js';
import { nullLogger } from '../../core/ports/logger.js';
import type { Counter, Gauge, Labels, Metrics, Summary } from '../../core/ports/metrics.js';
import { ContainerQueue } from '../../core/queue/container-queue.js';
import { arvadosPolicy } from '../../core/scheduler/arvados-policy.js';
import type { MapperPolicy, SchedulerState } from '../../core/scheduler/policy.js';
import { Scheduler } from '../../core/scheduler/scheduler.js';
import { EventEngine } from '../../sim/engine/event-engine.js';
import { FakeController } from './sched-controller.js';
import { testCluster, type TestClusterOptions } from './sched-fixtures.js';
import { FakePool } from './sched-pool.js';

/** Metrics that remember the last value per name and label set. */
export class RecordingMetrics implements Metrics {
  readonly values = new Map<string, number>();

  private metric(name: string): Gauge & Counter & Summary {
    const key = (l: Labels) => `${name}${JSON.stringify(l)}`;
    return {
      set: (l, v) => void this.values.set(key(l), v),
      reset: () => {
        for (const k of [...this.values.keys()]) if (k.startsWith(`${name}{`)) this.values.delete(k);
      },
      inc: (l, by = 1) => void this.values.set(key(l), (this.values.get(key(l)) ?? 0) + by),
      observe: (l, v) => void this.values.set(key(l), v),
    };
  }

  gauge(name: string): Gauge {
    return this.metric(name);
  }
  counter(name: string): Counter {
    return this.metric(name);
  }
  summary(name: string): Summary {
    return this.metric(name);
  }

  get(name: string, labels: Labels = {}): number | undefined {
    return this.values.get(`${name}${JSON.stringify(labels)}`);
  }
}

export interface HarnessOptions extends TestClusterOptions {
  readonly ctrs?: readonly Container[];
  readonly startMs?: number;
  readonly policy?: MapperPolicy;
  readonly state?: SchedulerState;
  readonly config?: ClusterConfig;
}

export class SchedHarness {
  readonly engine: EventEngine;
  readonly controller: FakeController;
  readonly pool = new FakePool();
  readonly metrics = new RecordingMetrics();
  readonly config: ClusterConfig;
  readonly queue: ContainerQueue;
  readonly scheduler: Scheduler;

  constructor(o: HarnessOptions = {}) {
    this.engine = new EventEngine(o.startMs ?? 1_000_000_000);
    this.controller = new FakeController(this.engine);
    this.config = o.config ?? testCluster(o);
    this.addContainers(...(o.ctrs ?? []));
    this.queue = new ContainerQueue({
      controller: this.controller,
      clock: this.engine,
      logger: nullLogger,
      metrics: this.metrics,
      cluster: this.config,
    });
    this.scheduler = new Scheduler({
      config: this.config,
      clock: this.engine,
      logger: nullLogger,
      metrics: this.metrics,
      queue: this.queue,
      pool: this.pool,
      controller: this.controller,
      policy: o.policy ?? arvadosPolicy,
      initialState: o.state,
    });
  }

  /** Add to the controller's db; Locked/Running ones are locked by the dispatcher's token. */
  addContainers(...ctrs: Container[]): void {
    for (const c of ctrs) {
      const mine = c.state === 'Locked' || c.state === 'Running';
      this.controller.add({ ...c, lockedByUuid: mine ? this.controller.authUuid : c.lockedByUuid });
    }
  }

  /** Poll the fake controller once. */
  async update(): Promise<void> {
    await this.queue.update();
  }

  /** One mapper+syncer pass, then let the API calls it started finish. */
  async pass(): Promise<void> {
    this.scheduler.runPass();
    await this.scheduler.idle();
  }

  state(uuid: string): string | undefined {
    return this.queue.get(uuid)?.container.state;
  }

  status(uuid: string): string | undefined {
    return this.scheduler.container(uuid)?.schedulingStatus;
  }
}

/** The virtual clock, for core/ tests (core/ files may not import sim/ directly). */
export { EventEngine };
