import { parseByteSize, parseDuration } from '../../core/config/units.js';
import { ScenarioError } from './scenario-error.js';

/**
 * Small readers for raw YAML values: each checks one value at `path` and throws a
 * ScenarioError that says what was expected and what was found.
 */
export type Raw = unknown;

export function describe(v: Raw): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  return `${typeof v} ${JSON.stringify(v)}`;
}

export function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

/** A map with only `allowed` keys (unknown keys are an error, so typos never pass). */
export function readMap(v: Raw, path: string, allowed: readonly string[]): Record<string, Raw> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new ScenarioError(path, `expected a map, got ${describe(v)}`);
  }
  const m = v as Record<string, Raw>;
  for (const k of Object.keys(m)) {
    if (!allowed.includes(k)) {
      throw new ScenarioError(join(path, k), `unknown key (expected one of: ${allowed.join(', ')})`);
    }
  }
  return m;
}

/** A map whose keys are data (quota groups, prefixes): any key is allowed. */
export function readOpenMap(v: Raw, path: string): Record<string, Raw> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new ScenarioError(path, `expected a map, got ${describe(v)}`);
  }
  return v as Record<string, Raw>;
}

export function readList(v: Raw, path: string): Raw[] {
  if (!Array.isArray(v)) throw new ScenarioError(path, `expected a list, got ${describe(v)}`);
  return v as Raw[];
}

export function readString(v: Raw, path: string): string {
  if (typeof v !== 'string') throw new ScenarioError(path, `expected a string, got ${describe(v)}`);
  return v;
}

export function readNumber(v: Raw, path: string, opts: { min?: number; max?: number; integer?: boolean } = {}): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new ScenarioError(path, `expected a number, got ${describe(v)}`);
  }
  if (opts.integer === true && !Number.isInteger(v)) throw new ScenarioError(path, `expected a whole number, got ${v}`);
  if (opts.min !== undefined && v < opts.min) throw new ScenarioError(path, `expected a number >= ${opts.min}, got ${v}`);
  if (opts.max !== undefined && v > opts.max) throw new ScenarioError(path, `expected a number <= ${opts.max}, got ${v}`);
  return v;
}

export function readFraction(v: Raw, path: string): number {
  return readNumber(v, path, { min: 0, max: 1 });
}

const DAY_MS = 86_400_000;

/**
 * A non-negative duration like `90s`, `1h30m` (milliseconds). Scenario files also take a
 * leading whole or decimal number of days (`30d`, `1d12h`), which Arvados' config does not.
 */
export function readDuration(v: Raw, path: string): number {
  let ms: number;
  try {
    if (typeof v !== 'string' && typeof v !== 'number') throw new Error(`got ${describe(v)}`);
    const days = typeof v === 'string' ? /^(\d+(?:\.\d+)?)d(.*)$/.exec(v) : null;
    ms = days === null ? parseDuration(v) : Number(days[1]) * DAY_MS + (days[2] === '' ? 0 : parseDuration(days[2]!));
  } catch (e) {
    throw new ScenarioError(path, `expected a duration like 90s or 1h30m: ${(e as Error).message}`);
  }
  if (ms < 0) throw new ScenarioError(path, `expected a duration that is not negative, got ${String(v)}`);
  return ms;
}

/** A byte size like `8GiB`, `100GB` or a plain number of bytes. */
export function readByteSize(v: Raw, path: string): number {
  try {
    if (typeof v !== 'string' && typeof v !== 'number') throw new Error(`got ${describe(v)}`);
    const n = parseByteSize(v);
    if (n < 0) throw new Error('negative');
    return n;
  } catch (e) {
    throw new ScenarioError(path, `expected a size like 8GiB or 100GB: ${(e as Error).message}`);
  }
}

export function readBoolean(v: Raw, path: string): boolean {
  if (typeof v !== 'boolean') throw new ScenarioError(path, `expected true or false, got ${describe(v)}`);
  return v;
}
