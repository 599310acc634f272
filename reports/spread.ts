/** A figure over several seeds: median, and the range it spans. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

/**
 * Median (mean of the middle two for an even count), min and max of the finite values;
 * null when there are none (e.g. cost / lower bound when nothing completed).
 */
export function spread(values: readonly number[]): Spread | null {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = Math.floor(v.length / 2);
  const median = v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  return { median: tidy(median), min: tidy(v[0]!), max: tidy(v[v.length - 1]!) };
}

/** spread() for figures every run has (never null: 0s for no runs). */
export function spreadOf(values: readonly number[]): Spread {
  return spread(values) ?? { median: 0, min: 0, max: 0 };
}

/** Cost / lower bound of one run; NaN when the bound is 0 (nothing completed). */
export function costRatio(total: number, lowerBound: number): number {
  return lowerBound > 0 ? total / lowerBound : NaN;
}

/** "12.3 (11.9–12.8)": the median, then the range when the seeds disagree. */
export function formatSpread(s: Spread | null, digits = 2): string {
  if (s === null) return 'n/a';
  const f = (v: number): string => fmt(v, digits);
  return s.min === s.max ? f(s.median) : `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}

function fmt(v: number, digits: number): string {
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  return Math.abs(v) >= 100 ? v.toFixed(Math.min(digits, 1)) : v.toFixed(digits);
}

/** Rounds away binary noise so JSON and CSV figures read cleanly. */
function tidy(v: number): number {
  return Math.round(v * 1e9) / 1e9;
}
