/**
 * The shape of a benchmark module: `export const benchmarks: Benchmark[]`. The harness
 * (bench/main.ts) runs each benchmark several times and reports the median, min and max of
 * every figure of every row. See bench/README.md.
 */

/** One line of a benchmark's result: a case label and its figures, units in the names. */
export interface BenchRow {
  /** What was measured, e.g. `1M timers, random delays`. Stable across runs. */
  readonly case: string;
  /** Figure name (with its unit, e.g. `events/s`, `wall ms`) -> value. */
  readonly figures: Readonly<Record<string, number>>;
}

export interface Benchmark {
  /** Short unique name, e.g. `engine`; `--only` matches a substring of it. */
  readonly name: string;
  /** One line for the table header. */
  readonly description: string;
  /**
   * Runs the benchmark once and returns its rows. Must return the same cases every time.
   * Measures its own wall time (see `measure`) so that set-up can be left out.
   */
  run(): Promise<BenchRow[]> | BenchRow[];
}

/** Wall-clock milliseconds taken by `fn` (the harness is the one place that reads real time). */
export async function measure(fn: () => unknown): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** Per-second rate of `count` things done in `ms` milliseconds. */
export function perSecond(count: number, ms: number): number {
  return ms > 0 ? (count * 1000) / ms : Infinity;
}
