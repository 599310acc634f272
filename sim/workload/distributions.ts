import type { Rng } from '../../core/ports/rng.js';
import { ScenarioError } from '../scenario/scenario-error.js';
import { describe, readDuration, readMap, type Raw } from '../scenario/fields.js';

/**
 * The random values of workload fields: how they are written in a scenario (readers, which
 * throw ScenarioError naming the path) and how they are drawn (samplers, which take all
 * randomness from an Rng).
 */

/** A duration (ms): fixed, or log-normal given by its median and 95th percentile. */
export type Dist =
  | { readonly kind: 'fixed'; readonly value: number }
  | { readonly kind: 'lognormal'; readonly median: number; readonly p95: number };

/** A value, a uniform choice from a list, or a weighted choice. */
export type Choice<T> =
  | { readonly kind: 'fixed'; readonly value: T }
  | { readonly kind: 'uniform'; readonly values: readonly T[] }
  | { readonly kind: 'weighted'; readonly values: readonly T[]; readonly weights: readonly number[] };

/** Uniform integer in [lo, hi], both >= 1. */
export interface PriorityRange {
  readonly lo: bigint;
  readonly hi: bigint;
}

/** z of the standard normal distribution's 95th percentile. */
const Z95 = 1.6448536269514722;

/** A duration like `20m`, or `{median: 20m, p95: 2h}`. */
export function readDist(v: Raw, path: string): Dist {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const m = readMap(v, path, ['median', 'p95']);
    if (m.median === undefined) throw new ScenarioError(`${path}.median`, 'required (a duration like 20m)');
    if (m.p95 === undefined) throw new ScenarioError(`${path}.p95`, 'required (a duration like 2h)');
    const median = readDuration(m.median, `${path}.median`);
    const p95 = readDuration(m.p95, `${path}.p95`);
    if (median <= 0) throw new ScenarioError(`${path}.median`, `expected a duration above 0, got ${String(m.median)}`);
    if (p95 < median) throw new ScenarioError(`${path}.p95`, `expected at least the median (${String(m.median)}), got ${String(m.p95)}`);
    return p95 === median ? { kind: 'fixed', value: median } : { kind: 'lognormal', median, p95 };
  }
  return { kind: 'fixed', value: readDuration(v, path) };
}

/**
 * A resource value: `4`, a list `[1, 2, 4]` (uniform) or a map `{1: 3, 4: 1}` (value ->
 * weight). `readValue` reads one value (map keys arrive as strings and go through it too).
 */
export function readChoice<T>(v: Raw, path: string, readValue: (v: Raw, path: string) => T): Choice<T> {
  if (Array.isArray(v)) {
    if (v.length === 0) throw new ScenarioError(path, 'expected a non-empty list of values');
    return { kind: 'uniform', values: v.map((x, i) => readValue(x, `${path}[${i}]`)) };
  }
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, Raw>);
    if (entries.length === 0) throw new ScenarioError(path, 'expected a non-empty map of value: weight');
    const values: T[] = [];
    const weights: number[] = [];
    for (const [k, w] of entries) {
      values.push(readValue(keyValue(k), `${path}.${k}`));
      if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) {
        throw new ScenarioError(`${path}.${k}`, `expected a weight (a number >= 0), got ${describe(w)}`);
      }
      weights.push(w);
    }
    if (weights.every((w) => w === 0)) throw new ScenarioError(path, 'expected at least one weight above 0');
    return { kind: 'weighted', values, weights };
  }
  return { kind: 'fixed', value: readValue(v, path) };
}

/** YAML map keys are strings; `4` means the number 4 to a numeric reader. */
function keyValue(k: string): Raw {
  return /^-?\d+(\.\d+)?$/.test(k) ? Number(k) : k;
}

/** `[lo, hi]` (inclusive) or a single priority; integers >= 1, as numbers or digit strings. */
export function readPriority(v: Raw, path: string): PriorityRange {
  if (Array.isArray(v)) {
    if (v.length !== 2) throw new ScenarioError(path, `expected [lo, hi], got a list of ${v.length}`);
    const lo = readPriorityValue(v[0], `${path}[0]`);
    const hi = readPriorityValue(v[1], `${path}[1]`);
    if (hi < lo) throw new ScenarioError(path, `expected lo <= hi, got [${lo}, ${hi}]`);
    return { lo, hi };
  }
  const p = readPriorityValue(v, path);
  return { lo: p, hi: p };
}

function readPriorityValue(v: Raw, path: string): bigint {
  let p: bigint | undefined;
  if (typeof v === 'number' && Number.isSafeInteger(v)) p = BigInt(v);
  else if (typeof v === 'string' && /^\d+$/.test(v)) p = BigInt(v);
  if (p === undefined || p < 1n) {
    throw new ScenarioError(path, `expected a whole priority >= 1 (quote values above 2^53), got ${describe(v)}`);
  }
  return p;
}

/** A probability in [0, 1]; `true`/`false` mean 1/0. */
export function readProbability(v: Raw, path: string): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
    throw new ScenarioError(path, `expected a probability between 0 and 1 (or true/false), got ${describe(v)}`);
  }
  return v;
}

/** Draws a duration in whole milliseconds. A fixed value draws nothing from `rng`. */
export function sampleDist(d: Dist, rng: Rng): number {
  if (d.kind === 'fixed') return d.value;
  const sigma = (Math.log(d.p95) - Math.log(d.median)) / Z95;
  return Math.max(0, Math.round(d.median * Math.exp(sigma * standardNormal(rng))));
}

/** Box-Muller; two uniforms per draw, so the stream position is predictable. */
function standardNormal(rng: Rng): number {
  const u1 = 1 - rng.next(); // (0, 1]: log stays finite
  const u2 = rng.next();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

export function sampleChoice<T>(c: Choice<T>, rng: Rng): T {
  switch (c.kind) {
    case 'fixed':
      return c.value;
    case 'uniform':
      return c.values[rng.int(0, c.values.length - 1)]!;
    case 'weighted': {
      const total = c.weights.reduce((a, b) => a + b, 0);
      let x = rng.next() * total;
      for (let i = 0; i < c.values.length; i++) {
        x -= c.weights[i]!;
        if (x < 0 && c.weights[i]! > 0) return c.values[i]!;
      }
      // Rounding left x at or just above 0: the last value with weight.
      for (let i = c.values.length - 1; ; i--) if (c.weights[i]! > 0) return c.values[i]!;
    }
  }
}

/** Uniform in [lo, hi]. Spans above 2^53 use 64 random bits (negligible modulo bias). */
export function samplePriority(p: PriorityRange, rng: Rng): bigint {
  if (p.lo === p.hi) return p.lo;
  const span = p.hi - p.lo + 1n;
  if (span <= BigInt(Number.MAX_SAFE_INTEGER)) return p.lo + BigInt(Math.floor(rng.next() * Number(span)));
  const hi32 = BigInt(Math.floor(rng.next() * 2 ** 32));
  const lo32 = BigInt(Math.floor(rng.next() * 2 ** 32));
  return p.lo + ((hi32 << 32n) | lo32) % span;
}

/** True with probability `p`; 0 and 1 draw nothing. */
export function sampleBool(p: number, rng: Rng): boolean {
  if (p <= 0) return false;
  if (p >= 1) return true;
  return rng.next() < p;
}
