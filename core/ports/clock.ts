/** A pending timer; cancelling a fired or cancelled timer does nothing. */
export interface Timer {
  cancel(): void;
}

/**
 * All time in core/ goes through this port. Times are milliseconds since the Unix epoch.
 *
 * Contract:
 * - `now()` never goes backwards.
 * - `setTimer(d, fn)` calls `fn` once, no earlier than `now() + max(d, 0)`. Timers due at the
 *   same time fire in the order they were set. `fn` must not throw; an exception is a bug
 *   and implementations may crash on it.
 * - `sleep(d, signal)` resolves after `d`; when `signal` aborts first it rejects with the
 *   signal's reason and the timer is cancelled.
 *
 * Production: `prod/system-clock.ts`. Simulation: the event engine's virtual clock.
 */
export interface Clock {
  now(): number;
  setTimer(delayMs: number, fn: () => void): Timer;
  sleep(delayMs: number, signal?: AbortSignal): Promise<void>;
}
