// Redaction for log lines. The Logger port promises that no token or key reaches a log, but
// callers pass error messages and records from the outside world, which may carry them
// (an HTTP error echoing a header, a config value in a parse error). So every line is
// scrubbed twice: by field name (anything named like a credential) and by value (the
// configured secrets, and the shapes credentials have: bearer headers, Arvados v2 tokens,
// PEM private keys, api_token query parameters).

export const REDACTED = '[REDACTED]';

/** Substrings that make a field name sensitive wherever they appear in it. */
const SENSITIVE_SUBSTRINGS = ['token', 'secret', 'password', 'passwd', 'passphrase', 'authorization', 'cookie', 'credential'];

/** Words that make a field name sensitive as a whole word (camelCase, snake_case or kebab-case). */
const SENSITIVE_WORDS = new Set(['key', 'auth', 'privatekey', 'apikey', 'pem']);

/**
 * Last words that describe a key without being one (`keyType`, `hostKeyFingerprint`,
 * `keyPairName`): such a field is logged unless a substring above makes it sensitive.
 */
const DESCRIPTIVE_LAST_WORDS = new Set(['type', 'types', 'fingerprint', 'name', 'names', 'bits', 'length', 'algorithm', 'count', 'format']);

const MAX_DEPTH = 8;

/** Shapes of credentials, redacted whatever the configuration says. */
const CREDENTIAL_PATTERNS: readonly RegExp[] = [
  /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g,
  /\b(Bearer|OAuth2|Basic)\s+[A-Za-z0-9._~+/=-]+/gi,
  /\bv2\/[a-z0-9]{5}-[a-z0-9]{5}-[a-z0-9]{15}\/[A-Za-z0-9]+/g,
  /([?&]api_token=)[^&\s"']+/g,
];

/** Whether a field of this name holds a credential (and so is never logged). */
export function isSensitiveKey(key: string): boolean {
  const lower = key.toLowerCase();
  if (SENSITIVE_SUBSTRINGS.some((s) => lower.includes(s))) return true;
  if (lower.endsWith('key') || lower.endsWith('keys')) return true;
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== '');
  if (DESCRIPTIVE_LAST_WORDS.has(words.at(-1) ?? '')) return false;
  return words.some((w) => SENSITIVE_WORDS.has(w));
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Scrubs log text and fields. Built once per logger from the configured secrets (tokens,
 * passwords, keys); empty secrets are ignored.
 */
export class Redactor {
  private readonly secretPattern: RegExp | null;

  constructor(secrets: readonly string[] = []) {
    const variants = new Set<string>();
    for (const s of secrets) {
      if (s === '') continue;
      variants.add(s);
      // The same secret as it appears in a URL or a JSON string.
      variants.add(encodeURIComponent(s));
      variants.add(JSON.stringify(s).slice(1, -1));
    }
    // Longest first, so that a secret containing another is replaced whole.
    const sorted = [...variants].sort((a, b) => b.length - a.length);
    this.secretPattern = sorted.length === 0 ? null : new RegExp(sorted.map(escapeRegExp).join('|'), 'g');
  }

  /** `s` with every configured secret and every credential-shaped substring replaced. */
  text(s: string): string {
    let out = this.secretPattern === null ? s : s.replace(this.secretPattern, REDACTED);
    for (const p of CREDENTIAL_PATTERNS) {
      out = out.replace(p, (_m: string, prefix?: unknown) =>
        typeof prefix === 'string' && prefix !== '' ? `${prefix}${prefix.endsWith('=') ? '' : ' '}${REDACTED}` : REDACTED,
      );
    }
    return out;
  }

  /**
   * A JSON-safe deep copy of `fields` with sensitive keys and secret values redacted.
   * Errors become `{type, message, kind?, code?}`; Maps become objects, Sets arrays;
   * cycles and nesting beyond 8 levels are cut.
   */
  fields(fields: Readonly<Record<string, unknown>>): Record<string, unknown> {
    return this.object(fields, 0, new WeakSet());
  }

  private object(o: object, depth: number, seen: WeakSet<object>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) {
      const key = this.text(k);
      // defineProperty: a "__proto__" field must stay an ordinary field.
      Object.defineProperty(out, key, {
        value: isSensitiveKey(k) ? REDACTED : this.value(v, depth + 1, seen),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }

  private value(v: unknown, depth: number, seen: WeakSet<object>): unknown {
    switch (typeof v) {
      case 'string':
        return this.text(v);
      case 'number':
      case 'boolean':
      case 'undefined':
        return v;
      case 'bigint':
        return v.toString();
      case 'symbol':
      case 'function':
        return undefined;
    }
    if (v === null) return null;
    const obj = v as object;
    if (seen.has(obj)) return '[Circular]';
    if (depth > MAX_DEPTH) return '[...]';
    seen.add(obj);
    try {
      if (v instanceof Error) return this.error(v, depth, seen);
      if (v instanceof Date) return Number.isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString();
      if (Buffer.isBuffer(v) || v instanceof Uint8Array) return `[${v.length} bytes]`;
      if (Array.isArray(v)) return v.map((x: unknown) => this.value(x, depth + 1, seen));
      if (v instanceof Set) return [...v].map((x: unknown) => this.value(x, depth + 1, seen));
      if (v instanceof Map) return this.object(Object.fromEntries([...v].map(([k, x]) => [String(k), x])), depth, seen);
      return this.object(obj, depth, seen);
    } finally {
      seen.delete(obj);
    }
  }

  private error(e: Error, depth: number, seen: WeakSet<object>): Record<string, unknown> {
    const out: Record<string, unknown> = { type: e.name, message: this.text(e.message) };
    const extra = e as unknown as Record<string, unknown>;
    for (const k of ['kind', 'code', 'exitCode', 'statusCode', 'status']) {
      const x = extra[k];
      if (typeof x === 'string' || typeof x === 'number') out[k] = this.value(x, depth + 1, seen);
    }
    if (e.cause !== undefined) out['cause'] = this.value(e.cause, depth + 1, seen);
    return out;
  }
}
