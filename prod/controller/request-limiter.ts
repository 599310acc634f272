import type { Clock, Timer } from '../../core/ports/clock.js';

/** After a 503, no new request starts for this long (sdk/go/arvados/limiter.go). */
export const QUIET_PERIOD_MS = 1000;
const INITIAL_LIMIT = 8;

/**
 * The Go SDK's client-side concurrency limiter: at most `limit` requests in flight,
 * starting at min(8, max). A 503 halves the limit (rounded up; once per quiet period) and
 * holds back new requests for the quiet period; each 2xx/3xx raises it by max(1, limit/10),
 * capped at twice the requests in flight and at `max`.
 */
export class RequestLimiter {
  private current = 0;
  private limit: number;
  private quietUntil = 0;
  private readonly waiters: (() => void)[] = [];
  private wake: Timer | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly max: number,
  ) {
    if (!(max >= 1)) throw new Error(`creating request limiter: max ${max} must be >= 1`);
    this.limit = Math.min(INITIAL_LIMIT, max);
  }

  get inFlight(): number {
    return this.current;
  }

  get currentLimit(): number {
    return this.limit;
  }

  /** Resolves when a request may start; the caller must call `release` once after. */
  acquire(): Promise<void> {
    if (this.waiters.length === 0 && this.mayStart()) {
      this.current++;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.waiters.push(() => {
        this.current++;
        resolve();
      });
      this.schedule();
    });
  }

  /** `status` of the response, or undefined when there was none (network error). */
  release(status: number | undefined): void {
    const now = this.clock.now();
    // As in Go, the response is judged while this request still counts as in flight.
    if (status === 503) {
      if (now >= this.quietUntil) {
        this.limit = Math.max(1, Math.ceil(this.limit / 2));
        this.quietUntil = now + QUIET_PERIOD_MS;
      }
    } else if (status !== undefined && status >= 200 && status < 400) {
      const raised = this.limit + Math.max(1, Math.floor(this.limit / 10));
      this.limit = Math.max(1, Math.min(raised, this.current * 2, this.max));
    }
    this.current--;
    this.schedule();
  }

  private mayStart(): boolean {
    return this.current < this.limit && this.clock.now() >= this.quietUntil;
  }

  private schedule(): void {
    while (this.waiters.length > 0 && this.mayStart()) this.waiters.shift()!();
    if (this.waiters.length > 0 && this.wake === null && this.clock.now() < this.quietUntil) {
      this.wake = this.clock.setTimer(this.quietUntil - this.clock.now(), () => {
        this.wake = null;
        this.schedule();
      });
    }
  }
}
