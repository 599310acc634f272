import { performance } from 'node:perf_hooks';
import type { SimulatedCloud } from '../cloud/simulated-cloud.js';
import type { StubController } from '../controller/stub-controller.js';
import type { EventEngine } from '../engine/event-engine.js';
import type { Progress } from './run-scenario.js';
import type { Series } from './summary.js';

const CHECK_EVERY_MS = 10_000;
const MAX_POINTS = 1500;

export interface SamplerOptions {
  readonly engine: EventEngine;
  readonly startMs: number;
  readonly controller: StubController;
  readonly cloud: SimulatedCloud;
  readonly requestCount: number;
  /** Submit time of the last request, ms from the start. */
  readonly lastSubmitMs: number;
  readonly horizonMs: number;
  /** How long after the workload is done VMs may take to go away before they count as leaked. */
  readonly graceMs: number;
  readonly onProgress?: ((p: Progress) => void) | undefined;
  readonly progressEveryMs: number;
}

/**
 * Watches a run every 10 simulated seconds: records the time series for the report (at
 * most 1,500 points: the interval doubles as the run gets longer), reports progress in
 * wall time, and ends the run once the workload is done and the cloud is empty (or the
 * VMs left have outlived every timeout, which makes them leaked).
 */
export class Sampler {
  /** ms since the epoch when every request had reached a final state. */
  workloadDoneAt: number | null = null;
  /** ms since the epoch when the run ended because the work was done. */
  doneAt: number | null = null;
  private readonly s = { t: [] as number[], booting: [] as number[], idle: [] as number[], busy: [] as number[], shutdown: [] as number[], queued: [] as number[], running: [] as number[], cost: [] as number[] };
  private sampleEveryMs = 60_000;
  private nextSampleAt = 0;
  private lastProgress = -Infinity;

  constructor(private readonly o: SamplerOptions) {}

  start(): void {
    this.tick();
  }

  /** Record the final point. */
  finish(): void {
    this.record(this.o.engine.now());
    this.progress(true);
  }

  series(): Series {
    return this.s;
  }

  private tick = (): void => {
    const { engine, cloud } = this.o;
    const now = engine.now();
    if (now >= this.nextSampleAt) {
      this.record(now);
      this.nextSampleAt = now + this.sampleEveryMs;
    }
    this.progress(false);
    const rel = now - this.o.startMs;
    if (this.workloadDoneAt === null && rel >= this.o.lastSubmitMs && this.pending() === 0) {
      this.workloadDoneAt = now;
    }
    if (this.workloadDoneAt !== null) {
      if (this.pending() !== 0) {
        // A container came back (a retry): not done after all.
        this.workloadDoneAt = null;
      } else if (cloud.liveInstanceIds().length === 0 || now - this.workloadDoneAt >= this.o.graceMs) {
        this.doneAt = now;
        engine.stop();
        return;
      }
    }
    engine.setTimer(CHECK_EVERY_MS, this.tick);
  };

  /** Requests not submitted yet, plus containers not in a final state. */
  private pending(): number {
    const c = this.o.controller;
    return this.o.requestCount - c.requestCount + c.countInState('Queued') + c.countInState('Locked') + c.countInState('Running');
  }

  private record(now: number): void {
    const { controller, cloud } = this.o;
    const st = cloud.ledger.liveStates();
    const s = this.s;
    s.t.push((now - this.o.startMs) / 1000);
    s.booting.push(st.booting);
    s.idle.push(st.idle);
    s.busy.push(st.busy);
    s.shutdown.push(st.shutdown);
    s.queued.push(controller.countInState('Queued') + controller.countInState('Locked'));
    s.running.push(controller.countInState('Running'));
    s.cost.push(cloud.ledger.costSoFar(now));
    if (s.t.length > MAX_POINTS) {
      for (const key of Object.keys(s) as (keyof typeof s)[]) s[key] = s[key].filter((_, i) => i % 2 === 0);
      this.sampleEveryMs *= 2;
    }
  }

  private progress(force: boolean): void {
    if (this.o.onProgress === undefined) return;
    const wall = performance.now();
    if (!force && wall - this.lastProgress < this.o.progressEveryMs) return;
    this.lastProgress = wall;
    const c = this.o.controller;
    this.o.onProgress({
      simulatedSeconds: (this.o.engine.now() - this.o.startMs) / 1000,
      horizonSeconds: this.o.horizonMs / 1000,
      requests: this.o.requestCount,
      finished: c.countInState('Complete') + c.countInState('Cancelled'),
      instances: this.o.cloud.liveInstanceIds().length,
    });
  }
}
