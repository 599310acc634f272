// The single-dispatcher interlock: a PostgreSQL session-level advisory lock on key 10005,
// the key Arvados' dblock.Dispatch uses, held by arvados-dispatch-cloud,
// arvados-dispatch-lsf and crunch-dispatch-slurm alike. Holding it means no other dispatcher
// of any kind (ours or the reference's) runs against this cluster.
import pg from 'pg';
import type { Clock } from '../../core/ports/clock.js';
import type { Logger } from '../../core/ports/logger.js';
import { pgConnectionSettings, sslFor, type PgConnectionSettings } from './pg-connection.js';

/** Arvados' `dblock.Dispatch` key. */
export const DISPATCH_LOCK_KEY = 10005;

/** Arvados' dblock retryDelay. */
export const LOCK_RETRY_MS = 5000;

export interface DispatchLockOptions {
  /** Clusters.<id>.PostgreSQL.Connection. */
  readonly connection: Readonly<Record<string, string>>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Abort to stop waiting: the promise then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Delay between attempts; default LOCK_RETRY_MS (tests shorten it). */
  readonly retryMs?: number;
}

/** A held lock. */
export interface DispatchLock {
  /**
   * Unlocks (`pg_advisory_unlock`) and closes the session. Idempotent; never rejects (a
   * failure is logged: the lock goes with the session anyway).
   */
  release(): Promise<void>;
  /**
   * Aborted when the database session ends while the lock is held (server restart, network
   * loss, pg_terminate_backend): from then on the lock is no longer held. The reference does
   * not notice this case; the daemon may choose to stop.
   */
  readonly lost: AbortSignal;
}

/**
 * Takes the dispatch lock on a connection of its own, as the reference does: tries
 * `pg_try_advisory_lock(10005)` every 5 s (reconnecting each time) until it holds it, and
 * while another session holds it logs that session's client address and port from
 * pg_stat_activity. Connection and query errors are logged and retried too.
 * @throws Error for a malformed PostgreSQL.Connection (before any attempt)
 * @throws the signal's reason when `signal` aborts first
 */
export async function acquireDispatchLock(opts: DispatchLockOptions): Promise<DispatchLock> {
  const settings = pgConnectionSettings(opts.connection);
  const logger = opts.logger.child({ Component: 'dblock', LockKey: DISPATCH_LOCK_KEY });
  if (settings.ignoredKeys.length > 0) logger.warn('ignoring PostgreSQL.Connection keys', { Keys: settings.ignoredKeys });
  const retryMs = opts.retryMs ?? LOCK_RETRY_MS;
  const signal = opts.signal;
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    const lock = await tryOnce(settings, logger, attempt, signal);
    if (lock !== null) return lock;
    await opts.clock.sleep(retryMs, signal);
  }
}

async function tryOnce(settings: PgConnectionSettings, logger: Logger, attempt: number, signal: AbortSignal | undefined): Promise<DispatchLock | null> {
  let client: pg.Client;
  try {
    client = await connect(settings, signal);
  } catch (e) {
    signal?.throwIfAborted();
    logger.info('error getting database connection', { Attempt: attempt, err: e });
    return null;
  }
  let holding = false;
  try {
    const r = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [DISPATCH_LOCK_KEY]);
    holding = r.rows[0]?.locked === true;
    if (!holding) {
      await logHolder(client, logger, attempt);
      return null;
    }
    signal?.throwIfAborted();
  } catch (e) {
    if (holding || signal?.aborted === true) {
      await closeQuietly(client);
      throw e;
    }
    logger.info('error getting pg_try_advisory_lock', { Attempt: attempt, err: e });
    return null;
  } finally {
    if (!holding) await closeQuietly(client);
  }
  logger.info('acquired dispatch lock', { Attempt: attempt });
  return heldLock(client, logger);
}

async function logHolder(client: pg.Client, logger: Logger, attempt: number): Promise<void> {
  try {
    const r = await client.query<{ pid: number; addr: string | null; port: number | null; app: string | null }>(
      `SELECT a.pid, host(a.client_addr) AS addr, a.client_port AS port, a.application_name AS app
         FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = $1 AND l.objsubid = 1`,
      [DISPATCH_LOCK_KEY],
    );
    const h = r.rows[0];
    if (h === undefined) {
      logger.info('waiting for other process to release lock', { Attempt: attempt });
      return;
    }
    // client_addr is null for a Unix-socket session, or when our role may not see it.
    const holder = h.addr === null ? 'local' : `${h.addr}:${h.port ?? -1}`;
    logger.info('waiting for other process to release lock', { Attempt: attempt, Holder: holder, HolderPID: h.pid, HolderApplication: h.app ?? '' });
  } catch (e) {
    logger.info('error getting other client info', { Attempt: attempt, err: e });
  }
}

function heldLock(client: pg.Client, logger: Logger): DispatchLock {
  const lost = new AbortController();
  let released: Promise<void> | null = null;
  const onGone = (why: string, e?: unknown) => {
    if (released !== null || lost.signal.aborted) return;
    logger.error('lost the dispatch lock: database session ended', { Reason: why, err: e });
    lost.abort(new Error(`holding the dispatch lock: database session ended (${why})`));
  };
  client.on('error', (e) => onGone('error', e));
  client.on('end', () => onGone('end'));
  return {
    lost: lost.signal,
    release() {
      released ??= (async () => {
        if (!lost.signal.aborted) {
          try {
            await client.query('SELECT pg_advisory_unlock($1)', [DISPATCH_LOCK_KEY]);
            logger.info('released dispatch lock');
          } catch (e) {
            logger.warn('error releasing dispatch lock (it goes with the session)', { err: e });
          }
        }
        await closeQuietly(client);
      })();
      return released;
    },
  };
}

/** A connected client, honouring sslmode (with libpq's fallback to plain text for allow/prefer). */
async function connect(settings: PgConnectionSettings, signal: AbortSignal | undefined): Promise<pg.Client> {
  const once = async (ssl: pg.ClientConfig['ssl']): Promise<pg.Client> => {
    const client = new pg.Client({ ...settings.config, ssl });
    // Until someone else listens, an error on this connection must not crash the process.
    client.on('error', () => {});
    const onAbort = () => void closeQuietly(client);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await client.connect();
      return client;
    } catch (e) {
      await closeQuietly(client);
      throw e;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  };
  const mode = settings.sslMode;
  if (mode !== 'allow' && mode !== 'prefer') return once(sslFor(mode, 'tls'));
  try {
    return await once(sslFor(mode, 'tls'));
  } catch (e) {
    if (!(e instanceof Error) || !/does not support SSL/.test(e.message)) throw e;
    return once(sslFor(mode, 'plain'));
  }
}

async function closeQuietly(client: pg.Client): Promise<void> {
  try {
    await client.end();
  } catch {
    // Already closed or broken: nothing more to release.
  }
}
