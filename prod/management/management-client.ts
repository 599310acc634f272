// One request to a dispatcher's management API, over http or https, for the admin client
// (`vmdispatch instance`). node:http(s) rather than fetch: fetch cannot be told to skip
// certificate checks (TLS.Insecure) without the undici package.
import http from 'node:http';
import https from 'node:https';

export interface ManagementResponse {
  readonly status: number;
  readonly statusText: string;
  readonly body: string;
}

export interface ManagementRequestOptions {
  readonly method?: 'GET' | 'POST';
  /** Sent as `Authorization: Bearer <token>`. */
  readonly token: string;
  /** TLS.Insecure: accept any server certificate (self-signed, expired, another name). */
  readonly insecure?: boolean;
  /** The whole request, connection to last byte; default 60 s. */
  readonly timeoutMs?: number;
}

/** OpenSSL's and Node's codes for a certificate the client does not trust. */
const UNTRUSTED_CERT_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * Sends one request and reads the whole answer. Any HTTP status resolves.
 * @throws Error when there is no answer: "<host>: <cause>" for a refused or reset connection;
 *   for a certificate the client does not trust, a message naming TLS.Insecure and
 *   NODE_EXTRA_CA_CERTS; "timed out after Ns" past the timeout
 */
export function managementRequest(url: URL, opts: ManagementRequestOptions): Promise<ManagementResponse> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const tls = url.protocol === 'https:';
  if (!tls && url.protocol !== 'http:') return Promise.reject(new Error(`${url.href}: expected an http or https URL`));
  return new Promise((resolve, reject) => {
    const options: https.RequestOptions = {
      method: opts.method ?? 'GET',
      headers: { Authorization: `Bearer ${opts.token}` },
      // One request per connection: nothing left open to keep the command from exiting.
      agent: false,
      ...(tls ? { rejectUnauthorized: opts.insecure !== true } : {}),
    };
    const req = (tls ? https : http).request(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (e) => reject(describeRequestError(e, url)));
    });
    const timer = setTimeout(() => req.destroy(new TimeoutRequestError(timeoutMs)), timeoutMs);
    req.on('close', () => clearTimeout(timer));
    req.on('error', (e) => reject(describeRequestError(e, url)));
    req.end();
  });
}

class TimeoutRequestError extends Error {
  constructor(ms: number) {
    super(`timed out after ${ms / 1000}s`);
    this.name = 'TimeoutError';
  }
}

function describeRequestError(e: Error, url: URL): Error {
  if (e instanceof TimeoutRequestError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  if (code !== undefined && UNTRUSTED_CERT_CODES.has(code)) {
    return new Error(
      `${url.host}: the server's TLS certificate is not trusted: ${e.message} (${code}); set TLS.Insecure: true in the config to skip the check, or name its CA in NODE_EXTRA_CA_CERTS`,
      { cause: e },
    );
  }
  if (tlsOnPlainPort(e)) {
    return new Error(`${url.host}: ${e.message} (is the management API served over plain http? then use an http:// InternalURL)`, { cause: e });
  }
  return new Error(`${url.host}: ${e.message}`, { cause: e });
}

/** An https client talking to a plain http server gets this OpenSSL error. */
function tlsOnPlainPort(e: Error): boolean {
  return /wrong version number|packet length too long/i.test(e.message);
}
