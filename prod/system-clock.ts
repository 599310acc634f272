import type { Clock, Timer } from '../core/ports/clock.js';

export interface SystemClockOptions {
  /**
   * Unref Node timers so that pending timers alone do not keep the process alive (for
   * background housekeeping in the daemon). Default false: a timer keeps the process up,
   * as `setTimeout` does.
   */
  readonly unref?: boolean;
}

/** Node clamps longer delays to 1 ms (with a warning); longer timers are chained. */
const MAX_NODE_DELAY_MS = 2_147_483_647;

/**
 * The Clock port over real time: `Date.now()` and Node timers. `now()` never goes
 * backwards even when the system clock is stepped back (it holds the last value it returned
 * until real time catches up), as the port contract requires.
 *
 * Timers with a non-finite positive delay never fire; negative or NaN delays count as 0.
 */
export class SystemClock implements Clock {
  private last = 0;
  private readonly unref: boolean;

  constructor(opts: SystemClockOptions = {}) {
    this.unref = opts.unref ?? false;
  }

  now(): number {
    const t = Date.now();
    if (t > this.last) this.last = t;
    return this.last;
  }

  setTimer(delayMs: number, fn: () => void): Timer {
    if (delayMs > 0 && !Number.isFinite(delayMs)) return { cancel: () => {} };
    let remaining = delayMs > 0 ? delayMs : 0;
    let handle: NodeJS.Timeout | null = null;
    let cancelled = false;
    const arm = () => {
      const step = Math.min(remaining, MAX_NODE_DELAY_MS);
      remaining -= step;
      handle = setTimeout(() => {
        if (cancelled) return;
        if (remaining > 0) arm();
        else {
          handle = null;
          fn();
        }
      }, step);
      if (this.unref) handle.unref();
    };
    arm();
    return {
      cancel: () => {
        cancelled = true;
        if (handle !== null) clearTimeout(handle);
        handle = null;
      },
    };
  }

  sleep(delayMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted === true) {
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
}
