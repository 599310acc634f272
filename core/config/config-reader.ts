// A path-aware reader over one map of a parsed config document. Each getter validates one
// key, applies the Arvados default when the key is absent or null (Arvados drops null keys
// before merging defaults), and throws a ConfigError naming the exact path otherwise.
// `finish()` turns the keys nobody read into warnings, as Arvados' loader logs
// "deprecated or unknown config entry".
import { ConfigError, describeFound } from './config-error.js';
import { UnitError, isUnitlessByteSizeString, parseByteSize, parseDuration } from './units.js';

export type PlainMap = Readonly<Record<string, unknown>>;

export function isPlainMap(v: unknown): v is PlainMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

export class ConfigReader {
  private readonly seen = new Set<string>();

  /**
   * @param map the map at `path` (an absent section is read as an empty map)
   * @param known keys that Arvados defines here but the dispatcher does not read: no
   *   warning; 'any' for big Arvados sections of which we read a few keys, where only a key
   *   that differs from a read key in case alone is worth a warning
   */
  constructor(
    readonly map: PlainMap,
    readonly path: string,
    readonly warnings: string[],
    private readonly known: ReadonlySet<string> | 'any' = new Set(),
  ) {}

  /** Reads a sub-map (absent or null -> empty); a non-map is an error. */
  static at(value: unknown, path: string, warnings: string[], known?: ReadonlySet<string> | 'any'): ConfigReader {
    if (value === undefined || value === null) return new ConfigReader({}, path, warnings, known);
    if (!isPlainMap(value)) throw new ConfigError(path, `expected a map, ${describeFound(value)}`);
    return new ConfigReader(value, path, warnings, known);
  }

  keyPath(key: string): string {
    return this.path === '' ? key : `${this.path}.${key}`;
  }

  /** The raw value, marking the key as read; undefined when absent or null. */
  raw(key: string): unknown {
    this.seen.add(key);
    const v = this.map[key];
    return v === null ? undefined : v;
  }

  section(key: string, known?: ReadonlySet<string> | 'any'): ConfigReader {
    return ConfigReader.at(this.raw(key), this.keyPath(key), this.warnings, known);
  }

  string(key: string, dflt: string, opts: { acceptNumber?: boolean } = {}): string {
    const v = this.raw(key);
    if (v === undefined) return dflt;
    if (typeof v === 'string') return v;
    if (opts.acceptNumber === true && typeof v === 'number' && Number.isFinite(v)) return String(v);
    throw new ConfigError(this.keyPath(key), `expected a string, ${describeFound(v)}`);
  }

  bool(key: string, dflt: boolean): boolean {
    const v = this.raw(key);
    if (v === undefined) return dflt;
    if (typeof v === 'boolean') return v;
    throw new ConfigError(this.keyPath(key), `expected true or false, ${describeFound(v)}`);
  }

  int(key: string, dflt: number, min = -Infinity): number {
    const v = this.raw(key);
    if (v === undefined) return dflt;
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
      throw new ConfigError(this.keyPath(key), `expected a whole number, ${describeFound(v)}`);
    }
    if (v < min) throw new ConfigError(this.keyPath(key), `expected a whole number >= ${min}, got ${v}`);
    return v;
  }

  float(key: string, dflt: number, min = -Infinity): number {
    const v = this.raw(key);
    if (v === undefined) return dflt;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new ConfigError(this.keyPath(key), `expected a number, ${describeFound(v)}`);
    }
    if (v < min) throw new ConfigError(this.keyPath(key), `expected a number >= ${min}, got ${v}`);
    return v;
  }

  /** Milliseconds. Negative durations are rejected (Arvados accepts them; none makes sense here). */
  duration(key: string, dfltMs: number): number {
    const v = this.raw(key);
    if (v === undefined) return dfltMs;
    if (typeof v !== 'string' && typeof v !== 'number') {
      throw new ConfigError(this.keyPath(key), `expected a duration like 10s or 1m30s, ${describeFound(v)}`);
    }
    let ms: number;
    try {
      ms = parseDuration(v);
    } catch (e) {
      const why = e instanceof UnitError ? e.message : String(e);
      throw new ConfigError(this.keyPath(key), `expected a duration like 10s or 1m30s, ${describeFound(v)} (${why})`);
    }
    if (ms < 0) throw new ConfigError(this.keyPath(key), `expected a duration >= 0, ${describeFound(v)}`);
    return ms;
  }

  /** Bytes. */
  byteSize(key: string, dflt: number): number {
    const v = this.raw(key);
    if (v === undefined) return dflt;
    if (typeof v !== 'string' && typeof v !== 'number') {
      throw new ConfigError(this.keyPath(key), `expected a size like 550MiB, 8GiB, 100GB or a number of bytes, ${describeFound(v)}`);
    }
    let bytes: number;
    try {
      bytes = parseByteSize(v);
    } catch (e) {
      const why = e instanceof UnitError ? e.message : String(e);
      throw new ConfigError(this.keyPath(key), `expected a size like 550MiB, 8GiB, 100GB or a number of bytes, ${describeFound(v)} (${why})`);
    }
    if (isUnitlessByteSizeString(v)) {
      this.warnings.push(
        `${this.keyPath(key)}: quoted number ${JSON.stringify(v)} without a unit read as ${bytes} bytes ` +
          `(Arvados' own loader silently reads it as 0; write it unquoted or with a unit)`,
      );
    }
    return bytes;
  }

  stringList(key: string, dflt: readonly string[]): readonly string[] {
    const v = this.raw(key);
    if (v === undefined) return dflt;
    if (!Array.isArray(v)) throw new ConfigError(this.keyPath(key), `expected a list of strings, ${describeFound(v)}`);
    return v.map((item: unknown, i) => {
      if (typeof item !== 'string') throw new ConfigError(`${this.keyPath(key)}.${i}`, `expected a string, ${describeFound(item)}`);
      return item;
    });
  }

  /** A map of strings; numbers are stringified when `acceptNumbers` (e.g. `port: 5432`). */
  stringMap(key: string, opts: { acceptNumbers?: boolean } = {}): Readonly<Record<string, string>> {
    const r = this.section(key);
    return Object.fromEntries(Object.keys(r.map).map((k) => [k, r.string(k, '', { acceptNumber: opts.acceptNumbers === true })]));
  }

  /** Marks a key as read without interpreting it. */
  ignore(...keys: string[]): void {
    for (const k of keys) this.seen.add(k);
  }

  /** Warns once for each key present here that was neither read nor known. */
  finish(): void {
    const known = this.known;
    const expected = known === 'any' ? [...this.seen] : [...this.seen, ...known];
    for (const k of Object.keys(this.map)) {
      if (this.seen.has(k) || (known !== 'any' && known.has(k))) continue;
      const hint = expected.find((e) => e.toLowerCase() === k.toLowerCase());
      if (known === 'any' && hint === undefined) continue;
      this.warnings.push(
        `${this.keyPath(k)}: deprecated or unknown config entry, ignored${hint !== undefined ? ` (perhaps you meant ${hint}?)` : ''}`,
      );
    }
  }
}
