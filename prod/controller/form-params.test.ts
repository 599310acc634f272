import { describe, it, expect } from 'vitest';
import { encodeParams } from './form-params.js';

describe('encodeParams', () => {
  it('encodes like the Go SDK', () => {
    const q = new URLSearchParams(encodeParams({ s: 'a b', n: 3, big: 2n ** 60n, t: true, f: false, z: null, o: { p: 10n ** 18n }, l: ['x'] }));
    expect([...q.keys()]).toEqual(['s', 'n', 'big', 't', 'o', 'l']);
    expect(q.get('s')).toBe('a b');
    expect(q.get('big')).toBe('1152921504606846976');
    expect(q.get('t')).toBe('true');
    expect(q.get('o')).toBe('{"p":1000000000000000000}');
    expect(q.get('l')).toBe('["x"]');
  });
});
