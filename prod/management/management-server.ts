// The management API's HTTP server: listens on the address of this host's
// Services.DispatchCloud.InternalURLs entry, as the reference's service wrapper does; an
// https entry is served with TLS (TLS.Certificate and TLS.Key, see tls-files.ts).
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { hostname, networkInterfaces } from 'node:os';
import type { AddressInfo } from 'node:net';
import type { ManagementHandler } from './management-handler.js';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
  /** The InternalURLs entry it came from. */
  readonly url: string;
  /** An https entry: serve TLS. */
  readonly tls: boolean;
}

/**
 * The InternalURLs entry to listen on, as the reference picks it: `$ARVADOS_SERVICE_INTERNAL_URL`
 * when set; else the only entry; else the one whose host is this machine (a loopback
 * address, `localhost`, the host name or an address of a local interface).
 * @throws Error when none is configured, one is not an http or https URL, or no entry
 *   names this host
 */
export function pickListenAddress(internalUrls: readonly string[], env: NodeJS.ProcessEnv = process.env): ListenAddress {
  const fromEnv = env['ARVADOS_SERVICE_INTERNAL_URL'];
  const candidates = fromEnv !== undefined && fromEnv !== '' ? [fromEnv] : internalUrls;
  if (candidates.length === 0) throw new Error('choosing the management API address: no Services.DispatchCloud.InternalURLs configured');
  const parsed = candidates.map(parseListenUrl);
  if (parsed.length === 1) return parsed[0] as ListenAddress;
  const local = localNames();
  const mine = parsed.filter((a) => local.has(a.host.toLowerCase()));
  if (mine.length === 0) {
    throw new Error(`choosing the management API address: none of Services.DispatchCloud.InternalURLs (${internalUrls.join(', ')}) names this host; set ARVADOS_SERVICE_INTERNAL_URL`);
  }
  return mine[0] as ListenAddress;
}

function parseListenUrl(raw: string): ListenAddress {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new Error(`choosing the management API address: ${JSON.stringify(raw)} is not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`choosing the management API address: ${raw}: expected an http or https URL`);
  const tls = u.protocol === 'https:';
  const port = u.port === '' ? (tls ? 443 : 80) : Number(u.port);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  return { host, port, url: raw, tls };
}

function localNames(): Set<string> {
  const out = new Set(['localhost', '127.0.0.1', '::1', '0.0.0.0', '::', hostname().toLowerCase()]);
  for (const addrs of Object.values(networkInterfaces())) for (const a of addrs ?? []) out.add(a.address.toLowerCase());
  return out;
}

/** PEM text of the certificate (chain) and its private key. */
export interface ServerTls {
  readonly cert: string;
  readonly key: string;
}

export interface RunningServer {
  readonly server: Server;
  /** The address actually bound (port resolved when 0 was asked for). */
  readonly host: string;
  readonly port: number;
  /** Whether it serves https. */
  readonly tls: boolean;
  /**
   * Serves new connections with this certificate and key (connections already open keep
   * theirs), as the reference does on SIGHUP.
   * @throws Error when the server is plain http, or the pair is unusable (the old one stays)
   */
  setTls(tls: ServerTls): void;
  /** Stops accepting, ends idle keep-alive connections, waits for requests in flight. */
  close(): Promise<void>;
}

/**
 * Serves `handler` on `host:port` (0 = any free port), over https when `opts.tls` is given.
 * @param opts.requestTimeoutMs API.RequestTimeout: a request not done by then is answered 408
 * @param opts.tls certificate and key; TLS 1.2 at least, as the reference
 * @throws the listen error (EADDRINUSE, EACCES, ...) as "listening on host:port: cause"
 */
export async function startManagementServer(
  handler: ManagementHandler,
  addr: { host: string; port: number },
  opts: { requestTimeoutMs?: number; tls?: ServerTls } = {},
): Promise<RunningServer> {
  const requestTimeout = opts.requestTimeoutMs ?? 300_000;
  const tlsServer = opts.tls === undefined ? null : createHttpsServer({ requestTimeout, minVersion: 'TLSv1.2', cert: opts.tls.cert, key: opts.tls.key }, handler);
  const server: Server = tlsServer ?? createServer({ requestTimeout }, handler);
  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error) => reject(new Error(`listening on ${addr.host}:${addr.port}: ${e.message}`, { cause: e }));
    server.once('error', onError);
    server.listen(addr.port, addr.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  return {
    server,
    host: bound.address,
    port: bound.port,
    tls: tlsServer !== null,
    setTls: (tls) => {
      if (tlsServer === null) throw new Error('replacing the TLS certificate: the management API serves plain http');
      tlsServer.setSecureContext({ minVersion: 'TLSv1.2', cert: tls.cert, key: tls.key });
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e === undefined ? resolve() : reject(e)));
        server.closeIdleConnections();
      }),
  };
}
