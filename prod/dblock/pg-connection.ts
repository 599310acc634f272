// Clusters.<id>.PostgreSQL.Connection (libpq keywords, as Arvados writes them) to a node-pg
// client configuration.
import type { ClientConfig } from 'pg';

/** libpq sslmode values. */
export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

/** Keys read; others (client_encoding, ...) are accepted and ignored. */
const KNOWN = new Set(['host', 'port', 'user', 'password', 'dbname', 'sslmode', 'connect_timeout', 'application_name']);

export interface PgConnectionSettings {
  /** Without `ssl`: the caller decides per the sslmode (see `sslMode`). */
  readonly config: ClientConfig;
  readonly sslMode: SslMode;
  /** Keys present but not used, for a warning. */
  readonly ignoredKeys: readonly string[];
}

/**
 * Reads the connection map. Defaults follow libpq: host `localhost`, port 5432, user and
 * dbname empty (node-pg then uses its own defaults), sslmode `prefer`.
 * @throws Error "PostgreSQL.Connection.<key>: ..." for a malformed port, timeout or sslmode
 */
export function pgConnectionSettings(conn: Readonly<Record<string, string>>): PgConnectionSettings {
  const get = (k: string): string | undefined => {
    const v = conn[k];
    return v === undefined || v === '' ? undefined : v;
  };
  const config: ClientConfig = { host: get('host') ?? 'localhost', application_name: get('application_name') ?? 'vmdispatch' };
  const port = get('port');
  if (port !== undefined) {
    const n = Number(port);
    if (!/^\d+$/.test(port) || n < 1 || n > 65535) throw new Error(`PostgreSQL.Connection.port: expected a port number (1-65535), got ${JSON.stringify(port)}`);
    config.port = n;
  }
  const user = get('user');
  if (user !== undefined) config.user = user;
  const password = get('password');
  if (password !== undefined) config.password = password;
  const dbname = get('dbname');
  if (dbname !== undefined) config.database = dbname;
  const timeout = get('connect_timeout');
  if (timeout !== undefined) {
    if (!/^\d+$/.test(timeout)) throw new Error(`PostgreSQL.Connection.connect_timeout: expected whole seconds, got ${JSON.stringify(timeout)}`);
    // libpq: 0 = wait forever; values under 2 s count as 2 s.
    const s = Number(timeout);
    if (s > 0) config.connectionTimeoutMillis = Math.max(2, s) * 1000;
  }
  const mode = (get('sslmode') ?? 'prefer') as SslMode;
  if (!(SSL_MODES as readonly string[]).includes(mode)) {
    throw new Error(`PostgreSQL.Connection.sslmode: expected one of ${SSL_MODES.join(', ')}, got ${JSON.stringify(mode)}`);
  }
  const ignoredKeys = Object.keys(conn).filter((k) => !KNOWN.has(k)).sort();
  return { config, sslMode: mode, ignoredKeys };
}

/**
 * The `ssl` setting for one connection attempt. `allow` and `prefer` try TLS without
 * verification first and fall back to plain text when the server has no TLS (node-pg has no
 * such mode, so the caller makes the second attempt); `require` encrypts without verifying,
 * as libpq does without a root certificate; `verify-ca` and `verify-full` verify.
 */
export function sslFor(mode: SslMode, attempt: 'tls' | 'plain'): ClientConfig['ssl'] {
  switch (mode) {
    case 'disable':
      return false;
    case 'allow':
    case 'prefer':
      return attempt === 'tls' ? { rejectUnauthorized: false } : false;
    case 'require':
      return { rejectUnauthorized: false };
    case 'verify-ca':
      return { rejectUnauthorized: true, checkServerIdentity: () => undefined };
    case 'verify-full':
      return { rejectUnauthorized: true };
  }
}
