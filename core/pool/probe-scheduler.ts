import type { CloudVMsConfig } from '../config/cluster-config.js';
import type { Clock, Timer } from '../ports/clock.js';
import type { Rng } from '../ports/rng.js';

/** What the scheduler launches: one probe per worker at most (the worker skips overlaps). */
export interface Probeable {
  probeAndUpdate(): Promise<void>;
}

/**
 * The probe loop (Arvados `runProbes`): every ProbeInterval tick, after a random jitter of
 * up to ProbeInterval/23, `tick()` shuts down what is idle and returns the workers to probe,
 * which are launched no faster than MaxProbesPerSecond. One chained timer does the pacing,
 * so a cycle costs one event per launch, not one timer per worker up front. As with a Go
 * ticker, a tick that passes while launches are still going is kept (one, not several).
 */
export class ProbeScheduler {
  private timer: Timer | null = null;
  private stopped = false;
  private tickAt = 0;

  constructor(
    private readonly clock: Clock,
    private readonly rng: Rng,
    private readonly cfg: Pick<CloudVMsConfig, 'ProbeInterval' | 'MaxProbesPerSecond'>,
    private readonly tick: () => Probeable[],
  ) {}

  start(): void {
    this.tickAt = this.clock.now() + this.cfg.ProbeInterval;
    this.schedule(this.tickAt);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
  }

  private schedule(at: number): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimer(at - this.clock.now(), () => {
      const jitter = this.rng.next() * (this.cfg.ProbeInterval / 23);
      this.timer = this.clock.setTimer(jitter, () => this.launch(this.tick(), 0));
    });
  }

  private launch(list: Probeable[], i: number): void {
    this.timer = null;
    if (this.stopped) return;
    const w = list[i];
    if (w === undefined) {
      this.nextCycle();
      return;
    }
    void w.probeAndUpdate();
    const gap = 1000 / this.cfg.MaxProbesPerSecond;
    if (i + 1 >= list.length) {
      this.nextCycle();
      return;
    }
    this.timer = this.clock.setTimer(gap, () => this.launch(list, i + 1));
  }

  private nextCycle(): void {
    const now = this.clock.now();
    const next = this.tickAt + this.cfg.ProbeInterval;
    this.tickAt = now >= next ? now : next;
    this.schedule(this.tickAt);
  }
}
