import { createHash, createPublicKey } from 'node:crypto';
import { utils, type ParsedKey } from 'ssh2';
import { describe, expect, it } from 'vitest';
import { generateEd25519KeyPair } from '../../sim/ssh/host-keys.js';
import { ec2ImportedFingerprint, ec2KeyFingerprints, parseSshPublicKey } from './key-fingerprint.js';

function parseOne(text: string): ParsedKey {
  const k = utils.parseKey(text);
  const one = Array.isArray(k) ? k[0] : k;
  if (one === undefined || one instanceof Error) throw new Error('parsing a test key');
  return one;
}

const colon = (b: Buffer) => b.toString('hex').replace(/(..)(?!$)/g, '$1:');

describe('EC2 key fingerprints', () => {
  it('RSA: MD5 and SHA-1 of the PKIX DER key, as EC2 shows imported keys', () => {
    const pair = utils.generateKeyPairSync('rsa', { bits: 1024 });
    // An independent route to the DER: ssh2's PEM export of the same key.
    const der = createPublicKey(parseOne(pair.public).getPublicPEM()).export({ type: 'spki', format: 'der' });
    const key = parseSshPublicKey(pair.public);
    expect(ec2KeyFingerprints(key)).toEqual([colon(createHash('md5').update(der).digest()), colon(createHash('sha1').update(der).digest())]);
    expect(ec2ImportedFingerprint(key)).toBe(ec2KeyFingerprints(key)[0]);
  });

  it('ed25519: SHA-256 of the wire-format key in base64, in several spellings', () => {
    const pair = generateEd25519KeyPair();
    const blob = parseOne(pair.public).getPublicSSH();
    const b64 = createHash('sha256').update(blob).digest('base64');
    const key = parseSshPublicKey(`${pair.public} comment here`);
    expect(key.line).toBe(pair.public.split(' ').slice(0, 2).join(' '));
    expect(ec2KeyFingerprints(key)).toEqual([`SHA256:${b64.replace(/=+$/, '')}`, `SHA256:${b64.replace(/=+$/, '')}=`, b64]);
    expect(ec2KeyFingerprints(key)).toContain(ec2ImportedFingerprint(key));
  });

  it('refuses what is not an OpenSSH public key', () => {
    expect(() => parseSshPublicKey('hello')).toThrow(/parsing public key/);
    expect(() => parseSshPublicKey('ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIGb')).toThrow(/parsing public key/);
  });
});
