import { createHash, createPublicKey } from 'node:crypto';

/** An OpenSSH public key, from an `authorized_keys` line. */
export interface SshPublicKey {
  readonly type: string;
  /** The SSH wire-format key (the base64 field, decoded). */
  readonly blob: Buffer;
  /** `type base64`, without the comment: what ImportKeyPair is given. */
  readonly line: string;
}

/**
 * Parses `ssh-rsa AAAA... comment`.
 * @throws Error "parsing public key: ..." when the line is not an OpenSSH public key.
 */
export function parseSshPublicKey(line: string): SshPublicKey {
  const fields = line.trim().split(/\s+/);
  const [type, b64] = fields;
  if (type === undefined || b64 === undefined || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) {
    throw new Error('parsing public key: expected an OpenSSH authorized_keys line like "ssh-ed25519 AAAA..."');
  }
  const blob = Buffer.from(b64, 'base64');
  const inner = readString(blob, 0);
  if (inner === null || inner.value.toString('latin1') !== type) {
    throw new Error(`parsing public key: the key data does not match its type ${JSON.stringify(type)}`);
  }
  return { type, blob, line: `${type} ${b64}` };
}

function readString(buf: Buffer, off: number): { value: Buffer; next: number } | null {
  if (off + 4 > buf.length) return null;
  const len = buf.readUInt32BE(off);
  if (off + 4 + len > buf.length) return null;
  return { value: buf.subarray(off + 4, off + 4 + len), next: off + 4 + len };
}

function base64url(b: Buffer): string {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++; // mpints carry a leading 0 byte when the top bit is set
  return b.subarray(i).toString('base64url');
}

/** The PKIX (SubjectPublicKeyInfo) DER encoding of an ssh-rsa key. */
export function rsaPkixDer(key: SshPublicKey): Buffer {
  const e = readString(key.blob, readString(key.blob, 0)?.next ?? key.blob.length);
  const n = e === null ? null : readString(key.blob, e.next);
  if (e === null || n === null) throw new Error('parsing public key: truncated ssh-rsa key');
  const jwk = { kty: 'RSA', e: base64url(e.value), n: base64url(n.value) };
  return createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'der' });
}

function colonHex(b: Buffer): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/**
 * The fingerprints under which EC2 may list this key once imported, first one first
 * (Arvados: the key pair's name is derived from it). RSA: MD5, then SHA-1, of the PKIX DER
 * public key as colon-separated hex (what EC2 shows for imported RSA keys). Other keys:
 * the SHA-256 of the wire-format key in base64, in the spellings seen in the wild.
 */
export function ec2KeyFingerprints(key: SshPublicKey): string[] {
  if (key.type === 'ssh-rsa') {
    const der = rsaPkixDer(key);
    return [colonHex(createHash('md5').update(der).digest()), colonHex(createHash('sha1').update(der).digest())];
  }
  const b64 = createHash('sha256').update(key.blob).digest('base64');
  const raw = b64.replace(/=+$/, '');
  return [`SHA256:${raw}`, `SHA256:${raw}=`, b64];
}

/** The fingerprint EC2 stores for an imported key (what DescribeKeyPairs returns). */
export function ec2ImportedFingerprint(key: SshPublicKey): string {
  if (key.type === 'ssh-rsa') {
    return colonHex(createHash('md5').update(rsaPkixDer(key)).digest());
  }
  return createHash('sha256').update(key.blob).digest('base64');
}
