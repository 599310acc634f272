/**
 * A seeded source of randomness. All randomness in core/ and sim/ goes through this port
 * so that a run is reproducible from its seed.
 *
 * Contract: the same seed gives the same sequence. `fork(name)` returns an independent
 * stream derived from this stream's seed and `name` only (not from how much of this stream
 * was consumed), so one concern (workload, cloud, faults, probe jitter) drawing more numbers
 * never shifts another concern's numbers.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number;
  fork(name: string): Rng;
}
