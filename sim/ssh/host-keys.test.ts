import ssh2 from 'ssh2';
import { describe, expect, it } from 'vitest';
import { generateEd25519KeyPair } from './host-keys.js';

const { utils } = ssh2;

describe('generateEd25519KeyPair', () => {
  it('only hands out keys that parse and sign (ssh2 alone fails about once in 200)', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 600; i++) {
      const k = generateEd25519KeyPair('c');
      expect(utils.parseKey(k.private)).not.toBeInstanceOf(Error);
      expect(k.parsed.getPublicSSH().length).toBe(51);
      expect(k.public.endsWith(' c')).toBe(true);
      seen.add(k.public);
    }
    expect(seen.size).toBe(600);
  });
});
