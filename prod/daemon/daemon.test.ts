import { X509Certificate } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterConfig } from '../../core/config/cluster-config.js';
import type { LogFields, Logger } from '../../core/ports/logger.js';
import { loadScenarioFile } from '../../sim/scenario/scenario.js';
import { World } from '../../sim/world/world.js';
import { parseConfigText } from '../config/load-config-file.js';
import { findPostgresBin, startPostgres, type PostgresServer } from '../dblock/postgres-server.fixture.js';
import { makeSelfSignedCert, pingHttps } from '../management/self-signed-cert.fixture.js';
import { Daemon, DaemonConfigError } from './daemon.js';
import { ARVADOS_SELF_EXE, chooseRunner } from './runner-binary.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCENARIO = join(ROOT, 'test', 'e2e', 'small-world.yaml');

/** Keeps every line (message and fields) for assertions. */
class MemoryLogger implements Logger {
  constructor(
    readonly lines: string[] = [],
    private readonly base: LogFields = {},
  ) {}
  debug(msg: string, f?: LogFields): void {
    this.push('debug', msg, f);
  }
  info(msg: string, f?: LogFields): void {
    this.push('info', msg, f);
  }
  warn(msg: string, f?: LogFields): void {
    this.push('warn', msg, f);
  }
  error(msg: string, f?: LogFields): void {
    this.push('error', msg, f);
  }
  child(f: LogFields): Logger {
    return new MemoryLogger(this.lines, { ...this.base, ...f });
  }
  private push(level: string, msg: string, f?: LogFields): void {
    this.lines.push(`${level} ${msg} ${JSON.stringify({ ...this.base, ...f }, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`);
  }
}

async function until(what: string, ms: number, check: () => boolean): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`waiting for ${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vmdispatch-daemon-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('chooseRunner', () => {
  it('"" uses the installed crunch-run; /proc/self/exe is taken as not set, with a warning', async () => {
    expect(await chooseRunner({ DeployRunnerBinary: '', DeployRunnerDirectory: '/tmp/x' })).toEqual({ runner: null, warning: null });
    const self = await chooseRunner({ DeployRunnerBinary: ARVADOS_SELF_EXE, DeployRunnerDirectory: '/tmp/x' });
    expect(self.runner).toBeNull();
    expect(self.warning).toContain('/proc/self/exe');
  });

  it('deploys a given binary as <dir>/crunch-run~<md5>; a missing file is an error naming it', async () => {
    const bin = join(dir, 'arvados-server');
    await writeFile(bin, 'binary');
    const r = await chooseRunner({ DeployRunnerBinary: bin, DeployRunnerDirectory: '/var/lib/arvados/' });
    expect(r.runner?.command).toBe('/var/lib/arvados/crunch-run~9d7183f16acce70658f686ae7f1a4d20');
    await expect(chooseRunner({ DeployRunnerBinary: join(dir, 'nope'), DeployRunnerDirectory: '/tmp' })).rejects.toThrow(/DeployRunnerBinary .*nope: ENOENT/);
  });
});

describe('Daemon', () => {
  it('refuses configs that cannot work, naming the setting', async () => {
    const base = (extra: string) =>
      parseConfigText(
        `Clusters:\n  zzzzz:\n    SystemRootToken: abc123\n    Services:\n      Controller: {ExternalURL: "http://127.0.0.1:1"}\n      DispatchCloud: {InternalURLs: {"http://127.0.0.1:0": {}}}\n    Containers:\n      CloudVMs: {ImageID: ami-1, DeployRunnerBinary: ""}\n${extra}    InstanceTypes:\n      m5.large: {VCPUs: 2, RAM: 8GiB, Price: 0.1}\n`,
        'c.yml',
      ).config;
    const logger = new MemoryLogger();
    const start = (config: ClusterConfig) => Daemon.start({ config, logger, env: {} });
    const cfg = base('');
    await expect(start(cfg)).rejects.toThrow(new DaemonConfigError('Clusters.zzzzz.Containers.DispatchPrivateKey: the setting is empty'));
    await expect(start({ ...cfg, Containers: { ...cfg.Containers, DispatchPrivateKey: 'notakey' } })).rejects.toThrow(
      'Clusters.zzzzz.Containers.DispatchPrivateKey: not a private key in PEM or OpenSSH format',
    );
    await expect(start({ ...cfg, Containers: { ...cfg.Containers, CloudVMs: { ...cfg.Containers.CloudVMs, Driver: 'azure' } } })).rejects.toThrow(
      'Clusters.zzzzz.Containers.CloudVMs.Driver: expected "ec2"',
    );
    await expect(start({ ...base(''), SystemRootToken: '' })).rejects.toThrow(/SystemRootToken: expected a token/);
    await expect(Daemon.start({ config: base(''), logger, env: {}, policy: 'nope' })).rejects.toThrow(/--policy: expected one of/);
  });

  it('runs a world workload end to end in one process; stop() leaves the instances', { timeout: 90_000 }, async () => {
    const scenario = loadScenarioFile(SCENARIO, { sets: ['workload.0.count=2', 'workload.0.runtime=1s'] });
    const world = await World.start(scenario);
    const logger = new MemoryLogger();
    let daemon: Daemon | null = null;
    try {
      const keyFile = join(dir, 'key');
      await writeFile(keyFile, world.dispatchPrivateKey, { mode: 0o600 });
      const config = parseConfigText(world.clusterConfig(keyFile), 'world.yml').config;
      daemon = await Daemon.start({ config, logger, env: {} });
      expect(daemon.state).toBe('running');
      const d = daemon;
      await until('the workload to complete', 60_000, () => world.status().done);
      const s = world.status();
      expect(s.requests).toMatchObject({ total: 2, complete: 2, retried: 0 });
      expect(s.doubleStarts).toBe(0);

      const health = await fetch(`${d.url}/_health/ping`, { headers: { Authorization: `Bearer ${config.ManagementToken}` } });
      expect(await health.json()).toEqual({ health: 'OK' });

      const live = world.status().instances.live;
      expect(live).toBeGreaterThan(0);
      await d.stop('test');
      expect(d.state).toBe('stopped');
      expect(await d.done).toBe('test');
      expect(world.status().instances.live).toBe(live);
      await expect(fetch(`${d.url}/_health/ping`)).rejects.toThrow();
      const all = logger.lines.join('\n');
      expect(all).not.toContain(config.SystemRootToken);
      expect(all).not.toContain(config.ManagementToken);
    } finally {
      await daemon?.stop();
      await world.close();
    }
  });
});

describe('Daemon over https', () => {
  it('refuses a bad TLS setting naming it; serves https; reloadTls swaps the certificate or keeps it', { timeout: 60_000 }, async () => {
    const a = makeSelfSignedCert(dir, 'daemon-a');
    const b = makeSelfSignedCert(dir, 'daemon-b');
    const certFile = join(dir, 'served.crt');
    const keyFile = join(dir, 'served.key');
    await copyFile(a.certFile, certFile);
    await copyFile(a.keyFile, keyFile);
    const world = await World.start(loadScenarioFile(SCENARIO, { sets: ['workload.0.count=1', 'workload.0.runtime=1s'] }));
    const logger = new MemoryLogger();
    let daemon: Daemon | null = null;
    try {
      const sshKey = join(dir, 'key-tls');
      await writeFile(sshKey, world.dispatchPrivateKey, { mode: 0o600 });
      const base = parseConfigText(world.clusterConfig(sshKey), 'world.yml').config;
      const withTls = (Certificate: string, Key: string): ClusterConfig => ({
        ...base,
        Services: { ...base.Services, DispatchCloud: { InternalURLs: ['https://127.0.0.1:0'] } },
        TLS: { ...base.TLS, Certificate, Key },
      });
      await expect(Daemon.start({ config: withTls('', ''), logger, env: {} })).rejects.toThrow(
        new DaemonConfigError("Clusters.zzzzz.TLS.Certificate: expected the certificate file as file:///path (the management API's InternalURL is https), got nothing"),
      );
      await expect(Daemon.start({ config: withTls(`file://${a.certFile}`, `file://${b.keyFile}`), logger, env: {} })).rejects.toThrow(
        `Clusters.zzzzz.TLS.Key: the private key in ${b.keyFile} does not match the certificate in ${a.certFile}`,
      );

      const config = withTls(`file://${certFile}`, `file://${keyFile}`);
      daemon = await Daemon.start({ config, logger, env: {} });
      expect(daemon.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(daemon.tls).toBe(true);
      const port = Number(new URL(daemon.url).port);
      const ping = (ca: string) => pingHttps(port, config.ManagementToken, ca);
      const pemA = await readFile(a.certFile, 'utf8');
      const pemB = await readFile(b.certFile, 'utf8');
      expect(await ping(pemA)).toEqual({ body: '{"health":"OK"}\n', fingerprint: new X509Certificate(pemA).fingerprint256 });

      await copyFile(b.certFile, certFile);
      await copyFile(b.keyFile, keyFile);
      expect(await daemon.reloadTls()).toBe(true);
      expect((await ping(pemB)).fingerprint).toBe(new X509Certificate(pemB).fingerprint256);

      // A renewal caught half-way (new certificate, old key) is refused; the served pair stays.
      await copyFile(a.certFile, certFile);
      expect(await daemon.reloadTls()).toBe(false);
      expect(logger.lines.some((l) => l.startsWith('warn error updating TLS certificate; keeping the current one') && l.includes('does not match'))).toBe(true);
      expect((await ping(pemB)).fingerprint).toBe(new X509Certificate(pemB).fingerprint256);
    } finally {
      await daemon?.stop();
      await world.close();
    }
  });
});

describe('Daemon with PostgreSQL.Connection', () => {
  const bin = findPostgresBin();
  const skip = bin === null && process.env['CI'] === undefined;
  let pgServer: PostgresServer | null = null;
  let world: World | null = null;
  afterAll(async () => {
    await world?.close();
    await pgServer?.stop();
  });

  it.skipIf(skip)('holds the dispatch lock: a second daemon waits until the first stops; a lost lock stops the daemon', { timeout: 120_000 }, async () => {
    pgServer = await startPostgres(bin ?? '');
    world = await World.start(loadScenarioFile(SCENARIO, { sets: ['workload.0.count=1', 'workload.0.runtime=1s'] }));
    const keyFile = join(dir, 'key-lock');
    await writeFile(keyFile, world.dispatchPrivateKey, { mode: 0o600 });
    const base = parseConfigText(world.clusterConfig(keyFile), 'world.yml').config;
    const config: ClusterConfig = { ...base, PostgreSQL: { Connection: pgServer.connection } };

    const first = await Daemon.start({ config, logger: new MemoryLogger(), env: {}, lockRetryMs: 200 });
    const waiting = new MemoryLogger();
    let second: Daemon | null = null;
    const pending = Daemon.start({ config, logger: waiting, env: {}, lockRetryMs: 200 }).then((d) => (second = d));
    await until('the second daemon to report the holder', 30_000, () => waiting.lines.some((l) => l.includes('waiting for other process to release lock')));
    expect(second).toBeNull();
    await first.stop();
    await pending;
    const d = second as unknown as Daemon;
    expect(d.state).toBe('running');

    // The session holding the lock ends: the daemon stops rather than run unlocked.
    await pgServer.query("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objid = 10005");
    expect(await d.done).toBe('dispatch lock lost');
    expect(d.state).toBe('stopped');
  });
});
