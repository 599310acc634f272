import type { Clock, Timer } from '../../core/ports/clock.js';
import { TimerHeap } from './timer-heap.js';

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

export interface EventEngineOptions {
  /** Initial virtual time, ms. Default 0. */
  readonly startMs?: number;
  /**
   * How the engine lets promise continuations run between two instants:
   * - 'microtasks' (default): drain the promise job queue through one `process.nextTick`
   *   turn. Every continuation reachable through `await`/`then` from a timer callback runs
   *   before time advances. Cheap (no event-loop turn).
   * - 'macrotask': one `setImmediate` turn per instant, which also runs work deferred with
   *   `process.nextTick` or `setImmediate` by a callback. Slower; for code that defers
   *   work that way without a `hold()`.
   */
  readonly drain?: 'microtasks' | 'macrotask';
  /**
   * Width (ms) of the buckets that hold timers due two buckets ahead or later; they enter
   * the heap when the clock nears them. Default 1000. A tuning knob (tests make it small
   * to exercise the buckets); firing order does not depend on it.
   */
  readonly farBucketMs?: number;
}

/** Every this many instants the engine yields to the event loop, so signals, I/O and
 * progress reporters are not starved by a long run. Deterministic: it depends only on the
 * instant count, and what runs in that turn cannot touch virtual time without a hold. */
const YIELD_EVERY_INSTANTS = 4096;

/** Where a pending timer is stored. */
const IN_NOW_QUEUE = 0;
const IN_HEAP = 1;
const IN_BUCKET = 2;
type Place = typeof IN_NOW_QUEUE | typeof IN_HEAP | typeof IN_BUCKET;

/**
 * One pending timer: the heap entry is also the handle returned to the caller, so a timer
 * costs exactly one allocation (plus the caller's callback).
 */
class TimerEntry implements Timer {
  constructor(
    public fn: (() => void) | null,
    private readonly engine: EventEngine,
    public place: Place,
    readonly time: number,
    readonly seq: number,
  ) {}

  cancel(): void {
    if (this.fn === null) return;
    this.fn = null;
    this.engine.onCancel(this.place);
  }
}

/** Far timers whose due time is in [index * width, (index + 1) * width). */
interface Bucket {
  readonly index: number;
  readonly entries: TimerEntry[];
}

const NEVER: Timer = { cancel: () => {} };

/** `RESOLVED.then(fn)` queues a microtask like `queueMicrotask(fn)`, at the same place in the
 * job queue, without the AsyncResource Node wraps around each queueMicrotask callback. */
const RESOLVED = Promise.resolve();

/**
 * The simulator's event queue, which is also its Clock (like XState's SimulatedClock):
 * running it fires due timers in time order, ties in the order they were set, and time
 * never goes backwards.
 *
 * The settle rule (what completes "at the same virtual instant"):
 * 1. All timers due at instant T fire, including timers set for T (delay 0) by callbacks
 *    of T, in the order they were set.
 * 2. Before the clock leaves T, every promise continuation started by those callbacks runs
 *    to completion or to a wait on something not yet resolved: an `await` chain of any
 *    length on already-resolved promises finishes at T. Continuations may set timers
 *    (for T or later); those join step 1.
 * 3. While any `hold()` is outstanding the clock does not leave T; real I/O (an SSH
 *    command to a simulated VM, an HTTP call) is bracketed by a hold so that it completes
 *    at the virtual instant it started.
 * Work deferred through `process.nextTick`, `setImmediate`, Node timers or I/O without a
 * hold is not covered by rule 2 in the default 'microtasks' drain mode.
 *
 * Timers with a non-finite positive delay (Infinity) never fire; delays that are negative
 * or NaN count as 0, as with Node's setTimeout.
 */
export class EventEngine implements Clock {
  private time: number;
  private seq = 0;
  private readonly heap = new TimerHeap<TimerEntry>();
  /** Timers due at the current instant set while it is current (FIFO): they come after every
   * heap entry of the same instant, which were all set earlier. Avoids heap work for the
   * common zero-delay case. */
  private nowQueue: TimerEntry[] = [];
  private nowHead = 0;
  /**
   * Timers due two buckets ahead or later wait in buckets, off the heap: most of them are
   * command deadlines cancelled a few ms later, which then cost an array push instead of a
   * heap push and pop. Invariant: every bucket starting at or before `time` has been moved
   * into the heap, so the heap and the current-instant queue hold everything due now.
   */
  private readonly bucketMs: number;
  private readonly buckets = new Map<number, Bucket>();
  private readonly bucketOrder = new TimerHeap<Bucket>(64);
  /** Entries stored in buckets, and how many of those are cancelled. */
  private inBuckets = 0;
  private deadInBuckets = 0;
  private live = 0;
  /** Cancelled entries still stored in the heap (lazy deletion). */
  private dead = 0;
  private holds = 0;
  private releaseWaiters: (() => void)[] = [];
  private stopRequested = false;
  private running = false;
  private readonly macrotaskDrain: boolean;

  constructor(opts: number | EventEngineOptions = {}) {
    const o: EventEngineOptions = typeof opts === 'number' ? { startMs: opts } : opts;
    this.time = o.startMs ?? 0;
    this.macrotaskDrain = o.drain === 'macrotask';
    this.bucketMs = o.farBucketMs ?? 1000;
    if (!(this.bucketMs > 0) || !Number.isFinite(this.bucketMs)) throw new Error(`creating the event engine: bad farBucketMs ${o.farBucketMs}`);
  }

  now(): number {
    return this.time;
  }

  setTimer(delayMs: number, fn: () => void): Timer {
    if (delayMs > 0 && !Number.isFinite(delayMs)) return NEVER;
    const t = delayMs > 0 ? this.time + delayMs : this.time;
    this.live++;
    if (t === this.time) {
      const entry = new TimerEntry(fn, this, IN_NOW_QUEUE, t, 0);
      this.nowQueue.push(entry);
      return entry;
    }
    const seq = this.seq++;
    const index = Math.floor(t / this.bucketMs);
    if (index >= Math.floor(this.time / this.bucketMs) + 2) {
      const entry = new TimerEntry(fn, this, IN_BUCKET, t, seq);
      let bucket = this.buckets.get(index);
      if (bucket === undefined) {
        bucket = { index, entries: [] };
        this.buckets.set(index, bucket);
        this.bucketOrder.push(index * this.bucketMs, index, bucket);
      }
      bucket.entries.push(entry);
      this.inBuckets++;
      return entry;
    }
    const entry = new TimerEntry(fn, this, IN_HEAP, t, seq);
    this.heap.push(t, seq, entry);
    return entry;
  }

  sleep(delayMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal === undefined) {
        this.setTimer(delayMs, resolve);
        return;
      }
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = () => {
        timer.cancel();
        reject(signal.reason);
      };
      const timer = this.setTimer(delayMs, () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Timers set and not yet fired or cancelled. */
  pending(): number {
    return this.live;
  }

  /** Time of the next live timer, or undefined. */
  nextTime(): number | undefined {
    this.dropCancelledNow();
    if (this.nowHead < this.nowQueue.length) return this.time;
    return this.nextDue();
  }

  /**
   * Keep the clock from advancing until the returned function is called (calling it again
   * does nothing). Use it around real I/O whose completion belongs to the current instant.
   */
  hold(): () => void {
    this.holds++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.holds--;
      if (this.holds === 0 && this.releaseWaiters.length > 0) {
        const waiters = this.releaseWaiters;
        this.releaseWaiters = [];
        for (const w of waiters) w();
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
   * Rejects with the error when a timer callback throws (a bug): that timer is consumed, the
   * rest stay queued, and `run()` may be called again.
   * @throws Error when called while already running.
   */
  run(opts: RunOptions = {}): Promise<RunResult> {
    if (this.running) return Promise.reject(new Error('running the event engine: it is already running'));
    this.running = true;
    this.stopRequested = false;
    const horizon = opts.horizon ?? Infinity;
    let events = 0;
    let instants = 0;
    return new Promise<RunResult>((resolve, reject) => {
      const finish = (reason: StopReason) => {
        this.running = false;
        resolve({ reason, events });
      };
      const fail = (e: unknown) => {
        this.running = false;
        reject(e as Error);
      };
      // The loop is driven by callbacks rather than `await` so that an instant costs no
      // promise allocation: after firing, a microtask queues a nextTick, and a nextTick
      // queued from a promise job runs only once V8 has drained every promise job,
      // including jobs queued meanwhile (rule 2 of the settle rule).
      const afterDrain = () => {
        if (this.holds > 0) this.settle().then(step, fail);
        else step();
      };
      const queueAfterDrain = () => process.nextTick(afterDrain);
      const step = () => {
        try {
          if (this.stopRequested) return finish('stopped');
          if (!this.hasNow()) {
            const t = this.nextDue();
            if (t === undefined) return finish('idle');
            if (t > horizon) {
              if (horizon > this.time) this.setTime(horizon);
              return finish('horizon');
            }
            this.time = t; // nextDue moved every bucket starting at or before t
          } else if (this.time > horizon) {
            return finish('horizon');
          }
          events += this.fireInstant();
          if (++instants % YIELD_EVERY_INSTANTS === 0 || this.macrotaskDrain || this.holds > 0) {
            this.settle().then(step, fail);
          } else {
            void RESOLVED.then(queueAfterDrain);
          }
        } catch (e) {
          fail(e);
        }
      };
      this.settle().then(step, fail);
    });
  }

  /**
   * Let promise continuations and deferred work (nextTick, setImmediate) run, and wait
   * until no hold is outstanding. Safe to call concurrently.
   */
  async settle(): Promise<void> {
    do {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.holds > 0) {
        await new Promise<void>((resolve) => {
          this.releaseWaiters.push(resolve);
        });
      }
    } while (this.holds > 0);
  }

  /** @internal Called by a timer handle the first time it is cancelled. */
  onCancel(place: Place): void {
    this.live--;
    if (place === IN_NOW_QUEUE) return;
    if (place === IN_BUCKET) {
      this.deadInBuckets++;
      if (this.deadInBuckets > 1024 && this.deadInBuckets > this.inBuckets >> 1) this.compactBuckets();
      return;
    }
    this.dead++;
    // Lazy deletion keeps cancel O(1); compact when dead entries dominate so that a
    // cancel-heavy pattern (timeouts that rarely fire) does not grow the heap without bound.
    if (this.dead > 1024 && this.dead > this.heap.size >> 1) {
      const before = this.heap.size;
      this.heap.removeWhere((e) => e.fn === null);
      this.dead -= before - this.heap.size;
    }
  }

  /** Fire every timer due at the current instant, heap entries first (set earlier). */
  private fireInstant(): number {
    let fired = 0;
    const now = this.time;
    while (!this.stopRequested && this.heap.size > 0 && this.heap.topTime() === now) {
      const e = this.heap.pop()!;
      const fn = e.fn;
      if (fn === null) {
        this.dead--;
        continue;
      }
      e.fn = null;
      this.live--;
      fired++;
      fn();
    }
    while (!this.stopRequested && this.nowHead < this.nowQueue.length) {
      const e = this.nowQueue[this.nowHead++]!;
      const fn = e.fn;
      if (fn === null) continue;
      e.fn = null;
      this.live--;
      fired++;
      fn();
    }
    if (this.nowHead >= this.nowQueue.length) this.resetNow();
    return fired;
  }

  /**
   * Time of the next live timer in the heap, after moving in every bucket that starts no
   * later (so that nothing in a bucket is due before it); undefined when none is left.
   */
  private nextDue(): number | undefined {
    for (;;) {
      this.dropCancelledTop();
      const t = this.heap.size > 0 ? this.heap.topTime() : Infinity;
      if (this.bucketOrder.size > 0 && this.bucketOrder.topTime() <= t) {
        this.flushBucket();
        continue;
      }
      return t === Infinity ? undefined : t;
    }
  }

  /** Move the clock to `t`, keeping the bucket invariant. */
  private setTime(t: number): void {
    this.time = t;
    while (this.bucketOrder.size > 0 && this.bucketOrder.topTime() <= t) this.flushBucket();
  }

  /** Move the earliest bucket's live timers into the heap (with their original order keys). */
  private flushBucket(): void {
    const bucket = this.bucketOrder.pop()!;
    this.buckets.delete(bucket.index);
    for (const e of bucket.entries) {
      this.inBuckets--;
      if (e.fn === null) {
        this.deadInBuckets--;
        continue;
      }
      e.place = IN_HEAP;
      this.heap.push(e.time, e.seq, e);
    }
  }

  /** Drop cancelled entries from every bucket, so long cancelled timers do not pile up. */
  private compactBuckets(): void {
    for (const bucket of this.buckets.values()) {
      const kept = bucket.entries.filter((e) => e.fn !== null);
      this.inBuckets -= bucket.entries.length - kept.length;
      this.deadInBuckets -= bucket.entries.length - kept.length;
      bucket.entries.length = 0;
      for (const e of kept) bucket.entries.push(e);
    }
  }

  private hasNow(): boolean {
    this.dropCancelledNow();
    if (this.nowHead < this.nowQueue.length) return true;
    this.dropCancelledTop();
    return this.heap.size > 0 && this.heap.topTime() === this.time;
  }

  private resetNow(): void {
    // Most instants set no zero-delay timer: writing `length` is a runtime call, skip it.
    if (this.nowQueue.length === 0) return;
    // Reuse the array unless a burst made it large; keeps zero-delay timers allocation-free.
    if (this.nowQueue.length > 4096) this.nowQueue = [];
    else this.nowQueue.length = 0;
    this.nowHead = 0;
  }

  private dropCancelledNow(): void {
    while (this.nowHead < this.nowQueue.length && this.nowQueue[this.nowHead]!.fn === null) this.nowHead++;
    if (this.nowHead >= this.nowQueue.length) this.resetNow();
  }

  private dropCancelledTop(): void {
    while (this.heap.size > 0 && this.heap.topItem()!.fn === null) {
      this.heap.pop();
      this.dead--;
    }
  }
}
