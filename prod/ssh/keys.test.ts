import { generateKeyPairSync } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import ssh2 from 'ssh2';

const { utils } = ssh2;
import { afterAll, describe, expect, it } from 'vitest';
import { generateEd25519KeyPair } from '../../sim/ssh/host-keys.js';
import { authorizedKeyLine, keyFingerprint, keyTypeOf, parseDispatchPrivateKey } from './keys.js';

const dir = mkdtempSync(join(tmpdir(), 'vmdispatch-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parseDispatchPrivateKey', () => {
  const ed = generateEd25519KeyPair();

  it('takes an inline OpenSSH key and derives its authorized_keys line', () => {
    const k = parseDispatchPrivateKey(ed.private);
    expect(k.signers).toHaveLength(1);
    expect(k.signers[0]?.type).toBe('ssh-ed25519');
    // Same type and blob as the public half generated with it.
    expect(k.publicKeyLine.split(' ').slice(0, 2)).toEqual(ed.public.split(' ').slice(0, 2));
    expect(k.publicKeyLine.endsWith(' vmdispatch')).toBe(true);
  });

  it('takes an inline PEM (PKCS#1 RSA) key, with surrounding whitespace as YAML leaves it', () => {
    const { privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const k = parseDispatchPrivateKey(`\n  ${privateKey}\n`);
    expect(k.signers[0]?.type).toBe('ssh-rsa');
    expect(k.publicKeyLine).toMatch(/^ssh-rsa AAAA[\w+/=]+ vmdispatch$/);
  });

  it('reads file:///path, matching what ssh-keygen derives from the same file', () => {
    const file = join(dir, 'id_dispatch');
    writeFileSync(file, ed.private, { mode: 0o600 });
    const k = parseDispatchPrivateKey(pathToFileURL(file).href);
    const fromKeygen = execFileSync('ssh-keygen', ['-y', '-f', file]).toString().trim();
    expect(k.publicKeyLine.split(' ').slice(0, 2)).toEqual(fromKeygen.split(' ').slice(0, 2));
  });

  it('explains each kind of bad value without quoting key material', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /the setting is empty/],
      ['file:///no/such/key', /\/no\/such\/key: no such file/],
      ['not a key at all', /not a private key in PEM or OpenSSH format/],
      [ed.public, /this is a public key; the private key is needed/],
    ];
    for (const [value, why] of cases) {
      expect(() => parseDispatchPrivateKey(value)).toThrow(why);
      try {
        parseDispatchPrivateKey(value);
      } catch (e) {
        expect((e as Error).message.startsWith('reading Containers.DispatchPrivateKey: ')).toBe(true);
      }
    }
  });

  it('refuses an encrypted key', () => {
    const enc = utils.generateKeyPairSync('ed25519', { passphrase: 'pw', cipher: 'aes256-ctr', rounds: 2 });
    expect(() => parseDispatchPrivateKey(enc.private)).toThrow(/the key is encrypted/);
  });
});

describe('key helpers', () => {
  it('fingerprints like ssh-keygen -l', () => {
    const pair = generateEd25519KeyPair();
    const file = join(dir, 'fp.pub');
    writeFileSync(file, pair.public + '\n');
    const keygen = execFileSync('ssh-keygen', ['-l', '-f', file]).toString().split(' ')[1];
    const parsed = utils.parseKey(pair.public);
    if (parsed instanceof Error || Array.isArray(parsed)) throw new Error('parse');
    expect(keyFingerprint(parsed.getPublicSSH())).toBe(keygen);
    expect(keyTypeOf(parsed.getPublicSSH())).toBe('ssh-ed25519');
    expect(keyTypeOf(Buffer.from([0, 0]))).toBe('');
    expect(authorizedKeyLine(parsed, 'c')).toBe(`${pair.public.split(' ').slice(0, 2).join(' ')} c`);
  });
});
