import type { Clock } from '../../core/ports/clock.js';

/**
 * A token bucket on the virtual clock: `ratePerSecond` tokens a second, at most `burst`
 * saved up. `take()` spends one token, or says how long until one is available.
 * Tokens are counted in thousandths so that whole-number rates stay exact on ms times.
 */
export class TokenBucket {
  private milli: number;
  private last: number;
  private readonly cap: number;

  constructor(
    private readonly clock: Clock,
    private readonly ratePerSecond: number,
    burst: number = Math.max(1, ratePerSecond),
  ) {
    if (!(ratePerSecond > 0)) throw new RangeError(`creating token bucket: rate must be > 0, got ${ratePerSecond}`);
    this.cap = Math.max(1, burst) * 1000;
    this.milli = this.cap;
    this.last = clock.now();
  }

  /** 0 when a token was spent; otherwise the ms (≥ 1) until the next token, nothing spent. */
  take(): number {
    const now = this.clock.now();
    this.milli = Math.min(this.cap, this.milli + (now - this.last) * this.ratePerSecond);
    this.last = now;
    if (this.milli >= 1000) {
      this.milli -= 1000;
      return 0;
    }
    return Math.max(1, Math.ceil((1000 - this.milli) / this.ratePerSecond));
  }
}
