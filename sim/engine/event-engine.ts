import type { Clock, Timer } from '../../core/ports/clock.js';

interface Entry {
  readonly time: number;
  readonly seq: number;
  fn: (() => void) | null;
}

export type StopReason = 'idle' | 'horizon' | 'stopped';

export interface RunResult {
  readonly reason: StopReason;
  /** Timer callbacks fired during this run. */
  readonly events: number;
}

export interface RunOptions {
  /** Stop before firing any timer due after this time (ms); the clock is left at the horizon. */
  readonly horizon?: number;
}

/**
 * The simulator's event queue, which is also its Clock (like XState's SimulatedClock):
 * running it fires due timers in time order, ties in the order they were set, and time
 * never goes backwards.
 *
 * Promises: timer callbacks may start async work. Before the clock moves to the next
 * instant the engine lets pending promise continuations run (one macrotask turn), and waits
 * for every `hold()` to be released, so work in flight over real I/O (an SSH command to a
 * simulated VM, an HTTP call) finishes at the virtual instant it started.
 */
export class EventEngine implements Clock {
  private time: number;
  private seq = 0;
  private readonly heap: Entry[] = [];
  private live = 0;
  private holds = 0;
  private released: (() => void) | null = null;
  private stopRequested = false;
  private running = false;

  constructor(startMs = 0) {
    this.time = startMs;
  }

  now(): number {
    return this.time;
  }

  setTimer(delayMs: number, fn: () => void): Timer {
    const delay = Number.isFinite(delayMs) && delayMs > 0 ? delayMs : 0;
    const entry: Entry = { time: this.time + delay, seq: this.seq++, fn };
    this.push(entry);
    this.live++;
    return {
      cancel: () => {
        if (entry.fn !== null) {
          entry.fn = null;
          this.live--;
        }
      },
    };
  }

  sleep(delayMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = () => {
        timer.cancel();
        reject(signal?.reason);
      };
      const timer = this.setTimer(delayMs, () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Timers set and not yet fired or cancelled. */
  pending(): number {
    return this.live;
  }

  /** Time of the next live timer, or undefined. */
  nextTime(): number | undefined {
    this.dropCancelledTop();
    return this.heap[0]?.time;
  }

  /**
   * Keep the clock from advancing until the returned function is called (once). Use it
   * around real I/O whose completion belongs to the current virtual instant.
   */
  hold(): () => void {
    this.holds++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.holds--;
      if (this.holds === 0 && this.released !== null) {
        const r = this.released;
        this.released = null;
        r();
      }
    };
  }

  /** Ask a running `run` to return before it fires the next timer. */
  stop(): void {
    this.stopRequested = true;
  }

  /**
   * Fire timers in order until none is left ('idle'), the next one is past the horizon
   * ('horizon'; the clock is then moved to the horizon), or `stop()` was called.
   */
  async run(opts: RunOptions = {}): Promise<RunResult> {
    if (this.running) throw new Error('EventEngine.run: already running');
    this.running = true;
    this.stopRequested = false;
    const horizon = opts.horizon ?? Infinity;
    let events = 0;
    try {
      await this.settle();
      for (;;) {
        if (this.stopRequested) return { reason: 'stopped', events };
        this.dropCancelledTop();
        const top = this.heap[0];
        if (top === undefined) return { reason: 'idle', events };
        if (top.time > horizon) {
          this.time = Math.max(this.time, horizon);
          return { reason: 'horizon', events };
        }
        this.time = top.time;
        // Fire everything due at this instant, including timers set for "now" by the
        // callbacks themselves, before letting time move on.
        while (!this.stopRequested) {
          this.dropCancelledTop();
          const next = this.heap[0];
          if (next === undefined || next.time !== this.time) break;
          this.pop();
          const fn = next.fn;
          next.fn = null;
          this.live--;
          events++;
          fn?.();
          this.dropCancelledTop();
          if (this.heap[0]?.time !== this.time) await this.settle();
        }
      }
    } finally {
      this.running = false;
    }
  }

  /** Let promise continuations run, and wait for holds to be released. */
  async settle(): Promise<void> {
    do {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.holds > 0) {
        await new Promise<void>((resolve) => {
          this.released = resolve;
        });
      }
    } while (this.holds > 0);
  }

  private dropCancelledTop(): void {
    while (this.heap.length > 0 && this.heap[0]!.fn === null) this.pop();
  }

  private push(e: Entry): void {
    const h = this.heap;
    let i = h.length;
    h.push(e);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p]!;
      if (!before(e, parent)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = e;
  }

  private pop(): Entry | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length === 0 || last === undefined) return top;
    let i = 0;
    const n = h.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && before(h[r]!, h[l]!) ? r : l;
      if (!before(h[c]!, last)) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = last;
    return top;
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}
