// JSON with exact 64-bit integers. Arvados container priorities reach ~1e18, beyond
// Number.MAX_SAFE_INTEGER, and Node 20's JSON.parse has no access to a number's source
// text; so this is a small strict RFC 8259 parser that returns integers outside the safe
// range as bigint, and a stringifier that writes bigints as plain JSON integers.

export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | { [key: string]: JsonValue };

/** A syntax error in JSON text; `offset` is the 0-based character index. */
export class JsonSyntaxError extends SyntaxError {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at offset ${offset}`);
    this.name = 'JsonSyntaxError';
  }
}

const MAX_DEPTH = 1000;

/**
 * Parses JSON text like JSON.parse, except that an integer literal (no fraction, no
 * exponent) outside ±(2^53-1) becomes a bigint, exactly. Other numbers are numbers.
 * A `__proto__` key is an ordinary own property, as with JSON.parse.
 * @throws JsonSyntaxError for invalid JSON or nesting deeper than 1000.
 */
export function parseJson(text: string): JsonValue {
  let i = 0;
  const n = text.length;

  const fail = (msg: string): never => {
    throw new JsonSyntaxError(msg, i);
  };
  const ws = (): void => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
  };
  const expectWord = (w: string): void => {
    if (text.startsWith(w, i)) i += w.length;
    else fail('unexpected token');
  };

  const parseString = (): string => {
    i++; // opening quote
    let out = '';
    let start = i;
    for (;;) {
      if (i >= n) fail('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        out += text.slice(start, i);
        i++;
        return out;
      }
      if (c < 0x20) fail('control character in string');
      if (c !== 0x5c) {
        i++;
        continue;
      }
      out += text.slice(start, i);
      const e = text[i + 1];
      i += 2;
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          const hex = text.slice(i, i + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('invalid \\u escape');
          out += String.fromCharCode(parseInt(hex, 16));
          i += 4;
          break;
        }
        default:
          i -= 1;
          fail('invalid escape');
      }
      start = i;
    }
  };

  const parseNumber = (): number | bigint => {
    const start = i;
    if (text.charCodeAt(i) === 0x2d) i++;
    const intStart = i;
    if (text.charCodeAt(i) === 0x30) i++;
    else if (isDigit19(text.charCodeAt(i))) while (isDigit(text.charCodeAt(i))) i++;
    else fail('invalid number');
    let integer = true;
    if (text.charCodeAt(i) === 0x2e) {
      integer = false;
      i++;
      if (!isDigit(text.charCodeAt(i))) fail('invalid number');
      while (isDigit(text.charCodeAt(i))) i++;
    }
    const c = text.charCodeAt(i);
    if (c === 0x65 || c === 0x45) {
      integer = false;
      i++;
      const s = text.charCodeAt(i);
      if (s === 0x2b || s === 0x2d) i++;
      if (!isDigit(text.charCodeAt(i))) fail('invalid number');
      while (isDigit(text.charCodeAt(i))) i++;
    }
    const src = text.slice(start, i);
    // 15 digits are always safe; only longer integers need the exact check.
    if (integer && i - intStart > 15) {
      const big = BigInt(src);
      if (big > MAX_SAFE || big < -MAX_SAFE) return big;
    }
    return Number(src);
  };

  const parseValue = (depth: number): JsonValue => {
    if (depth > MAX_DEPTH) fail('nesting too deep');
    ws();
    const c = text.charCodeAt(i);
    if (c === 0x22) return parseString();
    if (c === 0x7b) {
      i++;
      const obj: { [key: string]: JsonValue } = {};
      ws();
      if (text.charCodeAt(i) === 0x7d) {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text.charCodeAt(i) !== 0x22) fail('expected a string key');
        const key = parseString();
        ws();
        if (text.charCodeAt(i) !== 0x3a) fail("expected ':'");
        i++;
        const v = parseValue(depth + 1);
        if (key === '__proto__') Object.defineProperty(obj, key, { value: v, enumerable: true, writable: true, configurable: true });
        else obj[key] = v;
        ws();
        const d = text.charCodeAt(i);
        if (d === 0x2c) i++;
        else if (d === 0x7d) {
          i++;
          return obj;
        } else fail("expected ',' or '}'");
      }
    }
    if (c === 0x5b) {
      i++;
      const arr: JsonValue[] = [];
      ws();
      if (text.charCodeAt(i) === 0x5d) {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(parseValue(depth + 1));
        ws();
        const d = text.charCodeAt(i);
        if (d === 0x2c) i++;
        else if (d === 0x5d) {
          i++;
          return arr;
        } else fail("expected ',' or ']'");
      }
    }
    if (c === 0x74) {
      expectWord('true');
      return true;
    }
    if (c === 0x66) {
      expectWord('false');
      return false;
    }
    if (c === 0x6e) {
      expectWord('null');
      return null;
    }
    if (c === 0x2d || isDigit(c)) return parseNumber();
    return fail(i >= n ? 'unexpected end of input' : 'unexpected token');
  };

  const value = parseValue(0);
  ws();
  if (i < n) fail('unexpected data after the JSON value');
  return value;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
function isDigit19(c: number): boolean {
  return c >= 0x31 && c <= 0x39;
}

/**
 * JSON.stringify that also writes bigints, as plain JSON integers. Otherwise the same
 * rules: `toJSON()` is honoured, undefined/functions/symbols are dropped from objects and
 * become null in arrays, non-finite numbers become null. `indent` as in JSON.stringify.
 * A top-level value that JSON.stringify would drop (undefined) gives "null".
 * @throws TypeError on a circular structure.
 */
export function stringifyJson(value: unknown, indent?: number | string): string {
  const gap = typeof indent === 'number' ? ' '.repeat(Math.min(10, Math.max(0, indent))) : (indent ?? '').slice(0, 10);
  const stack = new Set<object>();
  const write = (v: unknown, inner: string): string | undefined => {
    if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
      v = (v as { toJSON: () => unknown }).toJSON();
    }
    switch (typeof v) {
      case 'bigint':
        return v.toString();
      case 'number':
        return Number.isFinite(v) ? String(v) : 'null';
      case 'string':
        return JSON.stringify(v);
      case 'boolean':
        return v ? 'true' : 'false';
      case 'undefined':
      case 'function':
      case 'symbol':
        return undefined;
    }
    if (v === null) return 'null';
    const obj = v as object;
    if (stack.has(obj)) throw new TypeError('stringifying JSON: circular structure');
    stack.add(obj);
    const next = inner + gap;
    const sep = gap === '' ? ',' : `,\n${next}`;
    const open = gap === '' ? '' : `\n${next}`;
    const close = gap === '' ? '' : `\n${inner}`;
    let out: string;
    if (Array.isArray(obj)) {
      const parts = obj.map((x: unknown) => write(x, next) ?? 'null');
      out = parts.length === 0 ? '[]' : `[${open}${parts.join(sep)}${close}]`;
    } else {
      const parts: string[] = [];
      for (const k of Object.keys(obj)) {
        const s = write((obj as Record<string, unknown>)[k], next);
        if (s !== undefined) parts.push(`${JSON.stringify(k)}:${gap === '' ? '' : ' '}${s}`);
      }
      out = parts.length === 0 ? '{}' : `{${open}${parts.join(sep)}${close}}`;
    }
    stack.delete(obj);
    return out;
  };
  return write(value, '') ?? 'null';
}

/** 1-based line and column of a character offset, for error messages. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  return { line: before.split('\n').length, column: offset - before.lastIndexOf('\n') };
}

/** "line L, column C: invalid JSON: <reason>" for a JsonSyntaxError from parsing `text`. */
export function describeJsonSyntaxError(text: string, e: JsonSyntaxError): string {
  const { line, column } = lineColumn(text, e.offset);
  return `line ${line}, column ${column}: invalid JSON: ${e.message.replace(/ at offset \d+$/, '')}`;
}
