import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogFields, Logger } from '../../core/ports/logger.js';
import { SystemClock } from '../system-clock.js';
import { DISPATCH_LOCK_KEY, acquireDispatchLock, type DispatchLock } from './dispatch-lock.js';
import { pgConnectionSettings, sslFor } from './pg-connection.js';
import { findPostgresBin, startPostgres, type PostgresServer } from './postgres-server.fixture.js';

interface Line {
  level: string;
  msg: string;
  fields: LogFields;
}
function recordingLogger(lines: Line[], bound: LogFields = {}): Logger {
  const at =
    (level: string) =>
    (msg: string, fields: LogFields = {}) =>
      void lines.push({ level, msg, fields: { ...bound, ...fields } });
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (f) => recordingLogger(lines, { ...bound, ...f }) };
}

async function until(what: string, cond: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`waiting for ${what}: still not true after 10 s`);
}

const clock = new SystemClock();
const RETRY_MS = 50;
const bin = findPostgresBin();

describe('PostgreSQL.Connection mapping', () => {
  it('maps libpq keys to node-pg settings', () => {
    const s = pgConnectionSettings({ host: 'db.example', port: '5433', user: 'arvados', password: 'pw', dbname: 'arvados_production', sslmode: 'require', connect_timeout: '1', client_encoding: 'utf8' });
    expect(s.config).toEqual({ host: 'db.example', port: 5433, user: 'arvados', password: 'pw', database: 'arvados_production', application_name: 'vmdispatch', connectionTimeoutMillis: 2000 });
    expect(s.sslMode).toBe('require');
    expect(s.ignoredKeys).toEqual(['client_encoding']);
    expect(pgConnectionSettings({}).sslMode).toBe('prefer');
    expect(pgConnectionSettings({}).config.host).toBe('localhost');
  });
  it('rejects malformed values, naming the key', () => {
    expect(() => pgConnectionSettings({ port: 'x' })).toThrow(/^PostgreSQL.Connection.port: expected a port number/);
    expect(() => pgConnectionSettings({ port: '70000' })).toThrow(/port/);
    expect(() => pgConnectionSettings({ sslmode: 'maybe' })).toThrow(/^PostgreSQL.Connection.sslmode: expected one of disable/);
    expect(() => pgConnectionSettings({ connect_timeout: '1.5' })).toThrow(/connect_timeout/);
  });
  it('sslmode: prefer tries TLS then plain; require does not verify; verify-full does', () => {
    expect(sslFor('prefer', 'tls')).toEqual({ rejectUnauthorized: false });
    expect(sslFor('prefer', 'plain')).toBe(false);
    expect(sslFor('disable', 'tls')).toBe(false);
    expect(sslFor('require', 'plain')).toEqual({ rejectUnauthorized: false });
    expect(sslFor('verify-full', 'tls')).toEqual({ rejectUnauthorized: true });
  });
});

describe.skipIf(bin === null && process.env['CI'] === undefined)('dispatch lock against a real PostgreSQL server', () => {
  let server: PostgresServer;
  beforeAll(async () => {
    if (bin === null) throw new Error('PostgreSQL binaries not found under /usr/lib/postgresql (CI installs the postgresql package)');
    server = await startPostgres(bin);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  const holders = async () =>
    server.query<{ pid: number }>(`SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = 0 AND objid = $1 AND objsubid = 1`, [DISPATCH_LOCK_KEY]);

  it('a second dispatcher waits, logging the holder, until the first releases', async () => {
    const lines1: Line[] = [];
    const lines2: Line[] = [];
    const first = await acquireDispatchLock({ connection: server.connection, clock, logger: recordingLogger(lines1), retryMs: RETRY_MS });
    expect(lines1.map((l) => l.msg)).toEqual(['acquired dispatch lock']);
    expect(await holders()).toHaveLength(1);

    let second: DispatchLock | null = null;
    const pending = acquireDispatchLock({ connection: server.connection, clock, logger: recordingLogger(lines2), retryMs: RETRY_MS }).then((l) => (second = l));
    await until('three refused attempts', () => lines2.filter((l) => l.msg === 'waiting for other process to release lock').length >= 3);
    expect(second).toBeNull();
    const waiting = lines2.find((l) => l.msg === 'waiting for other process to release lock');
    expect(waiting?.fields['Holder']).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(waiting?.fields['HolderApplication']).toBe('vmdispatch');
    expect(waiting?.fields['LockKey']).toBe(10005);
    expect((await holders())[0]?.pid).toBe(waiting?.fields['HolderPID']);

    await first.release();
    await first.release(); // idempotent
    expect(lines1.map((l) => l.msg)).toEqual(['acquired dispatch lock', 'released dispatch lock']);
    await pending;
    expect(second).not.toBeNull();
    expect(lines2.at(-1)?.msg).toBe('acquired dispatch lock');
    expect(await holders()).toHaveLength(1);
    await (second as DispatchLock | null)?.release();
    expect(await holders()).toHaveLength(0);
  });

  it('interlocks with any session holding key 10005 (as the reference dispatchers take it), both ways', async () => {
    const other = await server.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    expect(other).toHaveLength(1);
    // The admin session stands in for a Go dispatcher.
    await server.query('SELECT pg_advisory_lock(10005)');
    const lines: Line[] = [];
    const ac = new AbortController();
    const pending = acquireDispatchLock({ connection: server.connection, clock, logger: recordingLogger(lines), retryMs: RETRY_MS, signal: ac.signal });
    await until('a refused attempt', () => lines.some((l) => l.msg === 'waiting for other process to release lock'));
    await server.query('SELECT pg_advisory_unlock(10005)');
    const ours = await pending;
    const [tried] = await server.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(10005) AS locked');
    expect(tried?.locked).toBe(false);
    await ours.release();
    const [again] = await server.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(10005) AS locked');
    expect(again?.locked).toBe(true);
    await server.query('SELECT pg_advisory_unlock(10005)');
  });

  it('stops waiting when aborted, leaving no session behind', async () => {
    const first = await acquireDispatchLock({ connection: server.connection, clock, logger: recordingLogger([]), retryMs: RETRY_MS });
    const lines: Line[] = [];
    const ac = new AbortController();
    const pending = acquireDispatchLock({ connection: server.connection, clock, logger: recordingLogger(lines), retryMs: RETRY_MS, signal: ac.signal });
    await until('a refused attempt', () => lines.length > 0);
    ac.abort(new Error('shutting down'));
    await expect(pending).rejects.toThrow('shutting down');
    await first.release();
    await until('only the admin session left', async () => (await server.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = 'vmdispatch'`)).length === 0);
  });

  it('signals `lost` when the session holding the lock is terminated', async () => {
    const lines: Line[] = [];
    const lock = await acquireDispatchLock({ connection: server.connection, clock, logger: recordingLogger(lines), retryMs: RETRY_MS });
    const [h] = await holders();
    expect(lock.lost.aborted).toBe(false);
    await server.query('SELECT pg_terminate_backend($1)', [h?.pid]);
    await until('lost', () => lock.lost.aborted);
    expect(lines.some((l) => l.level === 'error' && l.msg === 'lost the dispatch lock: database session ended')).toBe(true);
    await lock.release(); // still safe
    expect(await holders()).toHaveLength(0);
  });

  it('keeps retrying while the database is unreachable, logging each failure', async () => {
    const lines: Line[] = [];
    const ac = new AbortController();
    const closed = { ...server.connection, port: '1' };
    const pending = acquireDispatchLock({ connection: closed, clock, logger: recordingLogger(lines), retryMs: RETRY_MS, signal: ac.signal });
    await until('two failed connections', () => lines.filter((l) => l.msg === 'error getting database connection').length >= 2);
    ac.abort(new Error('enough'));
    await expect(pending).rejects.toThrow('enough');
  });

  it('connects with sslmode prefer to a server without TLS (falls back to plain text)', async () => {
    const lock = await acquireDispatchLock({ connection: { ...server.connection, sslmode: 'prefer' }, clock, logger: recordingLogger([]), retryMs: RETRY_MS });
    expect(await holders()).toHaveLength(1);
    await lock.release();
  });
});
