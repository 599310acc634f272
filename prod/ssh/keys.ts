import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ssh2, { type ParsedKey } from 'ssh2';

// ssh2 is CommonJS: Node's ESM loader gives its exports on the default import only.
const { utils } = ssh2;

/** The dispatcher's SSH identity, parsed from `Containers.DispatchPrivateKey`. */
export interface DispatchKey {
  /** Private key(s) the executor authenticates with. */
  readonly signers: readonly ParsedKey[];
  /**
   * The first signer's public key as an OpenSSH `authorized_keys` line
   * (`ssh-ed25519 AAAA... vmdispatch`), for CloudVMs.DeployPublicKey.
   */
  readonly publicKeyLine: string;
}

const SETTING = 'Containers.DispatchPrivateKey';

/**
 * Parse `Containers.DispatchPrivateKey`: either the key itself (PEM or OpenSSH format) or
 * `file:///path/to/key`. Encrypted keys are refused: the daemon has no one to ask for a
 * passphrase. Throws an Error whose message reads "reading Containers.DispatchPrivateKey:
 * cause" and never contains key material.
 *
 * `readFile` is injectable for tests; it defaults to a synchronous read because this runs
 * once at start-up.
 */
export function parseDispatchPrivateKey(
  value: string,
  readFile: (path: string) => Buffer = (p) => readFileSync(p),
): DispatchKey {
  const text = loadKeyText(value, readFile);
  let parsed: ParsedKey | ParsedKey[] | Error;
  try {
    parsed = utils.parseKey(text);
  } catch (e) {
    // parseKey throws (rather than returning an Error) for some malformed inputs; its
    // message may quote the input, so it is not passed on.
    void e;
    throw new Error(`reading ${SETTING}: not a private key in PEM or OpenSSH format`);
  }
  if (parsed instanceof Error) {
    const why = /encrypted|passphrase/i.test(parsed.message)
      ? 'the key is encrypted; use an unencrypted key'
      : 'not a private key in PEM or OpenSSH format';
    throw new Error(`reading ${SETTING}: ${why}`);
  }
  const signers = Array.isArray(parsed) ? parsed : [parsed];
  const first = signers[0];
  if (first === undefined) throw new Error(`reading ${SETTING}: the value holds no key`);
  for (const k of signers) {
    if (!k.isPrivateKey()) {
      throw new Error(`reading ${SETTING}: this is a public key; the private key is needed`);
    }
  }
  return { signers, publicKeyLine: authorizedKeyLine(first) };
}

function loadKeyText(value: string, readFile: (path: string) => Buffer): Buffer {
  const trimmed = value.trim();
  if (trimmed === '') throw new Error(`reading ${SETTING}: the setting is empty`);
  if (!trimmed.startsWith('file://')) return Buffer.from(trimmed + '\n');
  let path: string;
  try {
    path = fileURLToPath(trimmed);
  } catch (e) {
    throw new Error(`reading ${SETTING}: ${trimmed} is not a valid file:/// URL`, { cause: e });
  }
  try {
    return readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String(code ?? e);
    throw new Error(`reading ${SETTING}: ${path}: ${why}`, { cause: e });
  }
}

/** `<type> <base64 public blob> vmdispatch`: one line of an authorized_keys file. */
export function authorizedKeyLine(key: ParsedKey, comment = 'vmdispatch'): string {
  return `${key.type} ${key.getPublicSSH().toString('base64')} ${comment}`;
}

/**
 * OpenSSH's fingerprint of a public key blob (`SHA256:base64-without-padding`), safe to log
 * and easy to compare with `ssh-keygen -lf`.
 */
export function keyFingerprint(publicBlob: Buffer): string {
  const digest = createHash('sha256').update(publicBlob).digest('base64');
  return `SHA256:${digest.replace(/=+$/, '')}`;
}

/** The key type named inside an SSH public key blob (`ssh-ed25519`), or '' when unreadable. */
export function keyTypeOf(publicBlob: Buffer): string {
  if (publicBlob.length < 4) return '';
  const len = publicBlob.readUInt32BE(0);
  if (len > 64 || publicBlob.length < 4 + len) return '';
  return publicBlob.subarray(4, 4 + len).toString('latin1');
}
