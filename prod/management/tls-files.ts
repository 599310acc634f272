// The certificate and key the management API serves https with: Clusters.<id>.TLS.Certificate
// and TLS.Key, file references as Arvados' service wrapper reads them (lib/service/tls.go:
// `file:///path`, the prefix stripped). Everything is checked before the server starts, so
// that a wrong path, a PEM that does not parse or a key that belongs to another certificate
// is a start-up error naming the setting and the file, not a failed TLS handshake later.
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';

/** PEM text of a certificate (chain) and its private key, checked to belong together. */
export interface TlsCredentials {
  readonly cert: string;
  readonly key: string;
  /** The files they were read from (for logs: never the contents). */
  readonly certFile: string;
  readonly keyFile: string;
  /** The leaf certificate's validity, RFC 3339. */
  readonly validFrom: string;
  readonly validTo: string;
}

/** A TLS setting that cannot be used; the message starts with the setting's dotted path. */
export class TlsConfigError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TlsConfigError';
  }
}

/**
 * The file a TLS.Certificate or TLS.Key value names: `file:///abs/path` (Arvados' form; the
 * `file://` prefix is stripped as the reference does) or, as a convenience, a bare absolute
 * path. Returns null for anything else (empty, relative, inline PEM).
 */
export function tlsFilePath(value: string): string | null {
  if (value.startsWith('file://')) {
    const rest = value.slice('file://'.length);
    return rest === '' ? null : rest;
  }
  return value.startsWith('/') ? value : null;
}

async function readSetting(value: string | undefined, path: string, what: string): Promise<{ file: string; text: string }> {
  if (value === undefined || value === '') {
    throw new TlsConfigError(`${path}: expected the ${what} file as file:///path (the management API's InternalURL is https), got nothing`);
  }
  const file = tlsFilePath(value);
  if (file === null) throw new TlsConfigError(`${path}: expected the ${what} file as file:///path, got ${JSON.stringify(value.slice(0, 40))}`);
  try {
    return { file, text: await readFile(file, 'utf8') };
  } catch (e) {
    throw new TlsConfigError(`${path}: reading the ${what} file ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
  }
}

/** The first line of an OpenSSL error, without its numeric prefix ("error:0480006C:PEM routines::"). */
function opensslReason(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return (msg.split('\n')[0] ?? msg).replace(/^error:[0-9A-F]+:[^:]*::/, '');
}

/**
 * Reads and checks TLS.Certificate and TLS.Key.
 * @param tls the config's TLS section
 * @param base the dotted path of the cluster (`Clusters.zzzzz`), for messages
 * @throws TlsConfigError when a setting is empty or not a file reference, a file cannot be
 *   read, its PEM does not parse, or the key does not belong to the certificate; the message
 *   names the setting and the file, never the key material
 */
export async function loadTlsCredentials(tls: { readonly Certificate?: string | undefined; readonly Key?: string | undefined }, base: string): Promise<TlsCredentials> {
  const certPath = `${base}.TLS.Certificate`;
  const keyPath = `${base}.TLS.Key`;
  const cert = await readSetting(tls.Certificate, certPath, 'certificate');
  const key = await readSetting(tls.Key, keyPath, 'private key');
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert.text);
  } catch (e) {
    throw new TlsConfigError(`${certPath}: ${cert.file} is not a PEM certificate: ${opensslReason(e)}`, { cause: e });
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key.text);
  } catch (e) {
    throw new TlsConfigError(`${keyPath}: ${key.file} is not a PEM private key: ${opensslReason(e)}`, { cause: e });
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw new TlsConfigError(`${keyPath}: the private key in ${key.file} does not match the certificate in ${cert.file} (${certPath})`);
  }
  try {
    // What the server will do with them: catches what the checks above do not (a chain
    // OpenSSL refuses, a key type TLS cannot use).
    createSecureContext({ cert: cert.text, key: key.text });
  } catch (e) {
    throw new TlsConfigError(`${certPath}: cannot serve TLS with ${cert.file} and ${key.file}: ${opensslReason(e)}`, { cause: e });
  }
  return {
    cert: cert.text,
    key: key.text,
    certFile: cert.file,
    keyFile: key.file,
    validFrom: new Date(x509.validFrom).toISOString(),
    validTo: new Date(x509.validTo).toISOString(),
  };
}
