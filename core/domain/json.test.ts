import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonSyntaxError, describeJsonSyntaxError, lineColumn, parseJson, stringifyJson } from './json.js';

describe('parseJson', () => {
  it('keeps integers beyond 2^53 exact as bigint', () => {
    expect(parseJson('999999999999999999')).toBe(999999999999999999n);
    expect(parseJson('{"priority":562948375092493200}')).toEqual({ priority: 562948375092493200n });
    expect(parseJson('-9223372036854775808')).toBe(-9223372036854775808n);
    expect(parseJson('123456789012345678901234567890')).toBe(123456789012345678901234567890n);
  });

  it('returns numbers for safe integers and for non-integers', () => {
    expect(parseJson('9007199254740991')).toBe(9007199254740991);
    expect(parseJson('-9007199254740991')).toBe(-9007199254740991);
    expect(parseJson('9007199254740992')).toBe(9007199254740992n);
    expect(parseJson('1000000000000000000.5')).toBe(1e18);
    expect(parseJson('1e18')).toBe(1e18);
    expect(parseJson('-0')).toBe(-0);
    expect(parseJson('0.25')).toBe(0.25);
  });

  it('parses like JSON.parse otherwise', () => {
    const text = ' {"a": [1, 2.5, -3e2, true, false, null, "x\\u00e9\\n\\"\\\\\\/\\ud83d\\ude00"], "b": {}, "c": [], "": ""} ';
    expect(parseJson(text)).toEqual(JSON.parse(text));
  });

  it('keeps __proto__ as an ordinary key', () => {
    const v = parseJson('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it.each(['', '{', '[1,]', '{"a":1,}', '01', '1.', '.5', '+1', '"\\x"', '"a', 'tru', 'nul', '[1] 2', "{'a':1}", '"\u0001"', 'NaN', '{"a" 1}'])(
    'rejects %j with a JsonSyntaxError',
    (text) => {
      expect(() => parseJson(text)).toThrow(JsonSyntaxError);
    },
  );

  it('rejects absurd nesting instead of overflowing the stack', () => {
    expect(() => parseJson('['.repeat(5000) + ']'.repeat(5000))).toThrow(/nesting too deep/);
  });

  it('reports the line and column of a syntax error', () => {
    const text = '{\n  "a": 1,\n  "b": ]\n}';
    try {
      parseJson(text);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(JsonSyntaxError);
      expect(describeJsonSyntaxError(text, e as JsonSyntaxError)).toBe('line 3, column 8: invalid JSON: unexpected token');
    }
    expect(lineColumn('ab\ncd', 4)).toEqual({ line: 2, column: 2 });
  });

  it('agrees with JSON.parse on arbitrary JSON, up to the exactness of big integers (property)', () => {
    const lossy = (v: unknown): unknown =>
      typeof v === 'bigint'
        ? Number(v)
        : Array.isArray(v)
          ? v.map(lossy)
          : v !== null && typeof v === 'object'
            ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, lossy(x)]))
            : v;
    fc.assert(
      fc.property(fc.json(), (text) => {
        expect(lossy(parseJson(text))).toEqual(JSON.parse(text));
      }),
      { numRuns: 200 },
    );
  });
});

describe('stringifyJson', () => {
  it('writes bigints as plain integers', () => {
    expect(stringifyJson({ priority: 999999999999999999n })).toBe('{"priority":999999999999999999}');
  });

  it('round-trips 999999999999999999 exactly', () => {
    const text = '{"priority":999999999999999999,"items":[{"p":-562948375092493200}]}';
    expect(stringifyJson(parseJson(text))).toBe(text);
  });

  it('matches JSON.stringify elsewhere, including indentation and dropped values', () => {
    const v = { a: [1, undefined, () => 1, NaN], b: undefined, c: 'x"y', d: { e: null, f: new Date(0) }, g: [], h: {} };
    expect(stringifyJson(v)).toBe(JSON.stringify(v));
    expect(stringifyJson(v, 2)).toBe(JSON.stringify(v, null, 2));
    expect(stringifyJson(v, '\t')).toBe(JSON.stringify(v, null, '\t'));
    expect(stringifyJson(undefined)).toBe('null');
  });

  it('rejects circular structures', () => {
    const a: Record<string, unknown> = {};
    a['self'] = a;
    expect(() => stringifyJson(a)).toThrow(/circular/);
  });

  it('agrees with JSON.stringify on arbitrary JSON values (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(undefined, 2), (v, indent) => {
        expect(stringifyJson(v, indent)).toBe(JSON.stringify(v, null, indent));
      }),
      { numRuns: 200 },
    );
  });
});
