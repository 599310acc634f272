import type { Clock } from '../ports/clock.js';
import { DispatchError, RateLimitError } from '../ports/errors.js';
import type { Rng } from '../ports/rng.js';

export interface RetryOptions {
  /** Delay before the second attempt, ms. Default 1000. */
  readonly initialDelayMs?: number;
  /** Upper bound of any delay (before jitter), ms. Default 60_000. */
  readonly maxDelayMs?: number;
  /** Each delay is the previous one times this. Default 2. */
  readonly factor?: number;
  /** Attempts in all, the first included. Default unlimited (stop with `signal`). */
  readonly maxAttempts?: number;
  /**
   * Randomises each delay down by up to this fraction (0..1), drawn from `rng`, so that
   * many callers failing together do not retry in lockstep. Default 0 (no jitter); needs
   * `rng` when > 0.
   */
  readonly jitter?: number;
  readonly rng?: Rng;
  /**
   * Whether an error is worth another attempt. Default `isRetryable`: transient,
   * rate-limit and timeout errors of the port taxonomy; anything else is thrown at once.
   */
  readonly shouldRetry?: (error: unknown, attempt: number) => boolean;
  /** Aborting stops the retries: a pending delay is cancelled and the call rejects with
   * the signal's reason. An attempt already running is not interrupted by this helper
   * (pass the signal to the operation as well). */
  readonly signal?: AbortSignal;
  /** Called before each delay, e.g. to log; `attempt` is the attempt that just failed. */
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

/** The default retry rule: errors whose kind says a later attempt may succeed. */
export function isRetryable(error: unknown): boolean {
  if (!(error instanceof DispatchError)) return false;
  return error.kind === 'transient' || error.kind === 'rate-limit' || error.kind === 'timeout';
}

/**
 * Delay after failed attempt number `attempt` (1-based), before jitter:
 * min(initial x factor^(attempt-1), max).
 */
export function backoffDelay(attempt: number, opts: RetryOptions = {}): number {
  const initial = opts.initialDelayMs ?? 1000;
  const max = opts.maxDelayMs ?? 60_000;
  const factor = opts.factor ?? 2;
  return Math.min(initial * factor ** (attempt - 1), max);
}

/**
 * Calls `op` until it resolves, waiting on `clock` between attempts with exponential
 * backoff. A RateLimitError's `retryAfterMs` is honoured as the minimum delay.
 *
 * Resolves with `op`'s first result. Rejects with the error of the last attempt when
 * `shouldRetry` says no or `maxAttempts` is reached, or with the signal's reason when
 * `signal` aborts (also when it is already aborted: `op` is then not called).
 * @throws RangeError (synchronously reported as a rejection) for invalid options.
 */
export async function retry<T>(clock: Clock, op: (attempt: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const jitter = opts.jitter ?? 0;
  if (!(jitter >= 0 && jitter <= 1)) throw new RangeError(`retrying: jitter must be in [0, 1], got ${jitter}`);
  if (jitter > 0 && opts.rng === undefined) throw new RangeError('retrying: jitter needs an rng');
  const maxAttempts = opts.maxAttempts ?? Infinity;
  if (!(maxAttempts >= 1)) throw new RangeError(`retrying: maxAttempts must be at least 1, got ${maxAttempts}`);
  const shouldRetry = opts.shouldRetry ?? isRetryable;
  for (let attempt = 1; ; attempt++) {
    if (opts.signal !== undefined && isAborted(opts.signal)) throw opts.signal.reason;
    try {
      return await op(attempt);
    } catch (error) {
      if (attempt >= maxAttempts || !shouldRetry(error, attempt) || isAborted(opts.signal)) throw error;
      let delay = backoffDelay(attempt, opts);
      if (jitter > 0) delay -= delay * jitter * opts.rng!.next();
      if (error instanceof RateLimitError) delay = Math.max(delay, error.retryAfterMs);
      opts.onRetry?.(error, attempt, delay);
      await clock.sleep(delay, opts.signal);
    }
  }
}

/** A function, not an inline test: the signal can abort while `op` runs. */
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}
