import type { Clock } from '../../core/ports/clock.js';
import type { Logger } from '../../core/ports/logger.js';
import type { StubController } from '../controller/stub-controller.js';
import type { SimulatedCloud } from '../cloud/simulated-cloud.js';
import type { ContainerPlan, CrunchRunConfig, CrunchRunWorld } from '../vm/crunch-run-world.js';
import type { ContainerRequestSpec } from '../workload/types.js';
import type { InvariantViolation } from './summary.js';

/** One crunch-run process of a container, as the world saw it start and end. */
export interface RunRecord {
  readonly instanceId: string;
  /** ms since the epoch. */
  readonly startedAt: number;
  endedAt: number | null;
}

/**
 * The bridge between simulated crunch-run processes and the stub controller, which is
 * also where the simulator watches crunch-run: every start and end of every container,
 * and the invariant that no container is started while another crunch-run of it lives.
 */
export class SimWorld implements CrunchRunWorld {
  readonly runs = new Map<string, RunRecord[]>();
  readonly violations: InvariantViolation[] = [];
  doubleStarts = 0;
  private cloud: SimulatedCloud | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly startMs: number,
    private readonly controller: StubController,
    private readonly specs: ReadonlyMap<string, ContainerRequestSpec>,
    private readonly logger: Logger,
  ) {}

  attachCloud(cloud: SimulatedCloud): void {
    this.cloud = cloud;
  }

  containerStarting(uuid: string, _config: CrunchRunConfig, instanceId: string): ContainerPlan {
    const now = this.clock.now();
    const previous = this.runs.get(uuid) ?? [];
    for (const run of previous) {
      if (run.instanceId !== instanceId && this.cloud?.vm(run.instanceId)?.hasLiveProcess(uuid) === true) {
        this.doubleStarts++;
        this.violations.push({
          invariant: 'no-double-start',
          at: (now - this.startMs) / 1000,
          detail: `${uuid} started on ${instanceId} while its crunch-run on ${run.instanceId} is alive`,
        });
      }
    }
    this.runs.set(uuid, [...previous, { instanceId, startedAt: now, endedAt: null }]);

    const snap = this.controller.snapshot(uuid);
    if (snap === undefined) return { refused: 'container not found' };
    // crunch-run refuses a container that is not Locked by the dispatcher's token; the
    // process then exits without touching the record.
    if (snap.state !== 'Locked' || snap.lockedByUuid !== this.controller.dispatcherAuthUuid) {
      return { refused: `container state is ${snap.state}` };
    }
    const spec = this.specs.get(snap.requestId);
    if (spec === undefined) return { refused: 'no workload for this request' };
    return { runtimeMs: spec.runtimeMs, outcome: spec.outcome };
  }

  containerRunning(uuid: string): boolean {
    try {
      this.controller.crunchRunStarted(uuid);
      return true;
    } catch (e) {
      this.ended(uuid);
      this.logger.debug('crunch-run could not set Running', { uuid, error: (e as Error).message });
      return false;
    }
  }

  containerFinished(uuid: string, exitCode: number): void {
    this.ended(uuid);
    try {
      this.controller.crunchRunFinished(uuid, exitCode);
    } catch (e) {
      this.logger.warn('crunch-run could not set Complete', { uuid, error: (e as Error).message });
    }
  }

  containerCancelled(uuid: string, reason: string): void {
    this.ended(uuid);
    const state = this.controller.snapshot(uuid)?.state;
    try {
      if (state === 'Running') this.controller.crunchRunCancelled(uuid, { error: reason });
      else if (state === 'Locked') this.controller.crunchRunFailedBeforeStart(uuid);
    } catch (e) {
      this.logger.warn('crunch-run could not record its cancellation', { uuid, error: (e as Error).message });
    }
  }

  /** The latest run of `uuid`, if crunch-run ever started it. */
  lastRun(uuid: string): RunRecord | undefined {
    const runs = this.runs.get(uuid);
    return runs?.[runs.length - 1];
  }

  private ended(uuid: string): void {
    const run = this.lastRun(uuid);
    if (run !== undefined && run.endedAt === null) run.endedAt = this.clock.now();
  }
}
