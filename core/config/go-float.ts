/**
 * Go's strconv.ParseFloat(s, 64) for the forms that occur in version strings: decimal
 * numbers with optional sign, fraction and exponent ("11.0", "8.6", "1e1", ".5"), and
 * inf/infinity/nan in any case. Returns undefined where Go returns an error (including
 * "" and "11.0.1"). Hex floats and digit underscores, which Go also accepts, are not
 * needed for versions and read as errors.
 */
export function parseGoFloat(s: string): number | undefined {
  if (/^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/.test(s)) return Number(s);
  const lower = s.toLowerCase();
  if (/^[+-]?(?:inf|infinity)$/.test(lower)) return lower.startsWith('-') ? -Infinity : Infinity;
  if (lower === 'nan') return NaN;
  return undefined;
}

/**
 * Arvados' versionLess: true when a < b as floats. Either side failing to parse is an
 * error, which callers treat as "insufficient", so this returns undefined for it.
 */
export function versionLess(a: string, b: string): boolean | undefined {
  const x = parseGoFloat(a);
  const y = parseGoFloat(b);
  if (x === undefined || y === undefined) return undefined;
  return x < y;
}
