import type { Clock, Timer } from '../ports/clock.js';
import { RateLimitError } from '../ports/errors.js';

/**
 * A "try again later" gate (Arvados worker/throttle.go): once armed it reports an error
 * until its deadline, then clears itself and calls `notify` so that waiting callers retry.
 */
export class Throttle {
  private until = 0;
  private reason: unknown = null;
  private timer: Timer | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly notify: () => void,
  ) {}

  /** Refuse until `untilMs`; a later deadline replaces an earlier one. */
  errorUntil(reason: unknown, untilMs: number): void {
    if (untilMs <= this.until) return;
    this.until = untilMs;
    this.reason = reason;
    this.timer?.cancel();
    this.timer = this.clock.setTimer(untilMs - this.clock.now(), () => {
      this.timer = null;
      this.notify();
    });
  }

  /** The error in force, or null once the deadline has passed. */
  error(): unknown {
    if (this.until === 0) return null;
    if (this.clock.now() >= this.until) {
      this.until = 0;
      this.reason = null;
      return null;
    }
    return this.reason;
  }

  active(): boolean {
    return this.error() !== null;
  }

  /** Arms the throttle when `err` is a rate-limit error whose retry time is in the future. */
  checkRateLimitError(err: unknown): boolean {
    if (!(err instanceof RateLimitError) || err.retryAfterMs <= 0) return false;
    this.errorUntil(err, this.clock.now() + err.retryAfterMs);
    return true;
  }

  /** Cancel the pending notification (pool stop). */
  stop(): void {
    this.timer?.cancel();
    this.timer = null;
  }
}
