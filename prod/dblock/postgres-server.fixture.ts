// A throwaway PostgreSQL server for tests: initdb into a temp dir, postgres on a free
// loopback port with its Unix socket in the temp dir, trust auth for the `postgres` role.
// PostgreSQL refuses to run as root, so as root the server runs as the `postgres` system user.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** The newest installed PostgreSQL's bin dir (Debian layout), or null. */
export function findPostgresBin(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'postgres')) && existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? null : join(root, versions[0], 'bin');
}

export interface PostgresServer {
  readonly port: number;
  readonly socketDir: string;
  /** PostgreSQL.Connection for this server (TCP on 127.0.0.1). */
  readonly connection: Record<string, string>;
  query<R extends pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<R[]>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  const u = id('-u');
  const g = id('-g');
  if (u.status !== 0 || g.status !== 0) throw new Error('starting PostgreSQL as root: no "postgres" system user to run it as');
  return { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) };
}

export async function startPostgres(bin: string): Promise<PostgresServer> {
  const dir = mkdtempSync(join(tmpdir(), 'vmdispatch-pg-'));
  const user = runAs();
  if (user !== undefined) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const init = spawnSync(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions'], {
    encoding: 'utf8',
    cwd: dir,
    timeout: 60_000,
    ...user,
  });
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`starting PostgreSQL: initdb failed: ${init.stderr || init.error?.message}`);
  }
  const port = await freePort();
  const proc: ChildProcess = spawn(
    join(bin, 'postgres'),
    ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
    { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], ...user },
  );
  let stderr = '';
  proc.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const connection = { host: '127.0.0.1', port: String(port), user: 'postgres', dbname: 'postgres', sslmode: 'disable' };

  const admin = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
  admin.on('error', () => {});
  const stop = async () => {
    await admin.end().catch(() => {});
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGINT'); // fast shutdown
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  // Ready when a connection succeeds; the server takes a second or two to start.
  for (let i = 0; ; i++) {
    if (proc.exitCode !== null) {
      await stop();
      throw new Error(`starting PostgreSQL: server exited: ${stderr}`);
    }
    const probe = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
    probe.on('error', () => {});
    try {
      await probe.connect();
      await probe.end();
      break;
    } catch {
      await probe.end().catch(() => {});
      if (i >= 150) {
        await stop();
        throw new Error(`starting PostgreSQL: not ready after 15 s: ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await admin.connect();
  return {
    port,
    socketDir: dir,
    connection,
    query: async <R extends pg.QueryResultRow>(sql: string, params?: unknown[]) => (await admin.query<R>(sql, params)).rows,
    stop,
  };
}
