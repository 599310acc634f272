// Value formats of the Arvados configuration: durations (Go's time.ParseDuration syntax, as
// arvados.Duration reads it) and byte sizes (arvados.ByteSize). Parsing follows the Go
// code rule for rule so that a config file means the same thing to both dispatchers; the
// few places where we choose differently are marked and listed in docs/configuration.md.

const NS_PER_UNIT: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n, // U+00B5 micro sign
  'μs': 1_000n, // U+03BC Greek mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const MAX_INT64 = (1n << 63n) - 1n;

/** Thrown by the unit parsers; the config layer adds the path. */
export class UnitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnitError';
  }
}

/**
 * Parses a duration the way Arvados' config loader does and returns milliseconds
 * (fractional when the duration is not a whole number of milliseconds).
 *
 * Accepts Go duration strings ("300ms", "1.5h", "1h30m", "-2s", units ns/us/µs/ms/s/m/h),
 * the bare number 0 and the string "0". Any other number, or a number without a unit, is
 * an error ("missing unit in duration"), as in Arvados.
 * @throws UnitError when the value is not a duration.
 */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') {
    if (value === 0) return 0;
    throw new UnitError(`missing unit in duration ${JSON.stringify(String(value))}`);
  }
  if (value === '0') return 0;
  return Number(parseGoDurationNs(value)) / 1e6;
}

/** Go's time.ParseDuration, returning nanoseconds exactly. */
export function parseGoDurationNs(text: string): bigint {
  const orig = text;
  const invalid = (): UnitError => new UnitError(`invalid duration ${JSON.stringify(orig)}`);
  let s = text;
  let neg = false;
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') throw invalid();
  let total = 0n;
  while (s !== '') {
    // Leading integer part, optional fraction; at least one digit in the two together.
    const m = /^([0-9]*)(?:\.([0-9]*))?/.exec(s);
    const intDigits = m?.[1] ?? '';
    const fracDigits = m?.[2] ?? '';
    const hasDot = m !== null && m[0].includes('.');
    if (intDigits === '' && fracDigits === '') throw invalid();
    s = s.slice(m?.[0].length ?? 0);
    let u = 0;
    while (u < s.length) {
      const c = s[u] as string;
      if (c === '.' || (c >= '0' && c <= '9')) break;
      u++;
    }
    if (u === 0) throw new UnitError(`missing unit in duration ${JSON.stringify(orig)}`);
    const unitName = s.slice(0, u);
    s = s.slice(u);
    const unit = NS_PER_UNIT[unitName];
    if (unit === undefined) {
      throw new UnitError(`unknown unit ${JSON.stringify(unitName)} in duration ${JSON.stringify(orig)}`);
    }
    let v = intDigits === '' ? 0n : BigInt(intDigits);
    if (v > MAX_INT64 / unit) throw invalid();
    v *= unit;
    if (hasDot && fracDigits !== '') {
      // Go scales the fraction in floating point: v += int64(float64(f) * (float64(unit) / scale)).
      // Go stops accumulating digits once f would overflow; 18 digits are far beyond ns precision.
      const digits = fracDigits.slice(0, 18);
      const f = Number(digits);
      const scale = 10 ** digits.length;
      v += BigInt(Math.trunc(f * (Number(unit) / scale)));
      if (v > MAX_INT64) throw invalid();
    }
    total += v;
    if (total > MAX_INT64) throw invalid();
  }
  return neg ? -total : total;
}

/**
 * Formats milliseconds the way Arvados prints a Duration: Go's time.Duration.String with
 * the noise removed ("1m", "1h", "1h30m", "1m30s", "300ms", "1.5s", "0s").
 */
export function formatDuration(ms: number): string {
  const ns = BigInt(Math.round(ms * 1e6));
  return formatGoDurationNs(ns).replace('m0s', 'm').replace('h0m', 'h');
}

/** Go's time.Duration.String. */
export function formatGoDurationNs(ns: bigint): string {
  if (ns === 0n) return '0s';
  const neg = ns < 0n;
  const u = neg ? -ns : ns;
  let out: string;
  if (u < 1_000_000_000n) {
    if (u < 1_000n) out = `${u}ns`;
    else if (u < 1_000_000n) out = `${fraction(u, 3)}µs`;
    else out = `${fraction(u, 6)}ms`;
  } else {
    const h = u / 3_600_000_000_000n;
    const m = (u / 60_000_000_000n) % 60n;
    const sec = fraction(u % 60_000_000_000n, 9);
    out = h > 0n ? `${h}h${m}m${sec}s` : m > 0n ? `${m}m${sec}s` : `${sec}s`;
  }
  return neg ? `-${out}` : out;
}

/** `v / 10^digits` as a decimal with trailing zeros (and a bare dot) dropped. */
function fraction(v: bigint, digits: number): string {
  const scale = 10n ** BigInt(digits);
  const whole = v / scale;
  const frac = (v % scale).toString().padStart(digits, '0').replace(/0+$/, '');
  return frac === '' ? whole.toString() : `${whole}.${frac}`;
}

const PREFIX_VALUE: Readonly<Record<string, number>> = {
  '': 1,
  K: 1e3,
  Ki: 2 ** 10,
  M: 1e6,
  Mi: 2 ** 20,
  G: 1e9,
  Gi: 2 ** 30,
  T: 1e12,
  Ti: 2 ** 40,
  P: 1e15,
  Pi: 2 ** 50,
  E: 1e18,
  Ei: 2 ** 60,
};

const JSON_NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;
const JSON_INTEGER = /^-?(?:0|[1-9][0-9]*)$/;

/**
 * Parses a byte size the way arvados.ByteSize does and returns bytes.
 *
 * A number must be a non-negative safe integer. A string is "<number><unit>": the number
 * is a JSON number (floats allowed, "1.5GiB"); units K M G T P E are powers of 1000 and
 * Ki..Ei powers of 1024, with an optional trailing "B"; spaces around the unit are
 * tolerated; units are case-sensitive ("1gib" is an error). Fractional results are
 * truncated toward zero, as Go does.
 *
 * Deliberate differences from Arvados: a quoted number with no unit ("1024") is read as
 * that many bytes (Arvados silently reads 0; see `isUnitlessByteSizeString`, which the
 * config layer uses to warn); negative sizes and sizes above 2^53-1 bytes are errors.
 * @throws UnitError when the value is not a byte size.
 */
export function parseByteSize(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new UnitError(`invalid byte size ${value}: a number must be a whole count of bytes`);
    }
    return value;
  }
  const s = value;
  let split = lastIndexOfAny(s, '0123456789.+-eE') + 1;
  if (split === 0) throw new UnitError(`invalid byte size ${JSON.stringify(s)}`);
  // "4.5EiB": the E starts the unit, not an exponent.
  if (s[split - 1] === 'E') split--;
  const numText = s.slice(0, split).trim();
  if (!JSON_NUMBER.test(numText)) throw new UnitError(`invalid byte size ${JSON.stringify(s)}`);
  let prefix = s.slice(split).replace(/^ +| +$/g, '');
  const unitText = prefix;
  if (prefix.endsWith('B')) prefix = prefix.slice(0, -1);
  const pval = PREFIX_VALUE[prefix];
  if (pval === undefined) throw new UnitError(`invalid unit ${JSON.stringify(unitText)} in byte size ${JSON.stringify(s)}`);
  if (numText.startsWith('-')) throw new UnitError(`invalid byte size ${JSON.stringify(s)}: negative`);
  let bytes: number;
  if (JSON_INTEGER.test(numText)) {
    const exact = BigInt(numText) * BigInt(pval);
    if (exact > BigInt(Number.MAX_SAFE_INTEGER)) throw new UnitError(`byte size ${JSON.stringify(s)} is too large`);
    bytes = Number(exact);
  } else {
    bytes = Math.trunc(Number(numText) * pval);
    if (!Number.isSafeInteger(bytes)) throw new UnitError(`byte size ${JSON.stringify(s)} is too large`);
  }
  return bytes;
}

/** True for a string that Arvados' ByteSize would silently read as 0: a number with no unit. */
export function isUnitlessByteSizeString(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  let split = lastIndexOfAny(value, '0123456789.+-eE') + 1;
  if (split > 0 && value[split - 1] === 'E') split--;
  return split > 0 && split === value.length;
}

/** Formats bytes with the largest binary unit that divides them exactly ("8GiB", "1000"). */
export function formatByteSize(bytes: number): string {
  if (bytes === 0) return '0';
  for (const [unit, p] of [['Ti', 2 ** 40], ['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]] as const) {
    if (bytes % p === 0) return `${bytes / p}${unit}B`;
  }
  return String(bytes);
}

function lastIndexOfAny(s: string, chars: string): number {
  for (let i = s.length - 1; i >= 0; i--) {
    if (chars.includes(s[i] as string)) return i;
  }
  return -1;
}
