// The production daemon's lifecycle: `vmdispatch serve` builds one of these from the cluster
// config, with production adapters only (EC2 driver, SSH executor, controller HTTP client),
// around the same core the simulator runs (core/assemble.ts).
import { randomBytes } from 'node:crypto';
import { assembleCore, type Core } from '../../core/assemble.js';
import { ConfigError } from '../../core/config/config-error.js';
import type { ClusterConfig } from '../../core/config/cluster-config.js';
import { instanceSetIdFromToken } from '../../core/config/instance-set-id.js';
import { SeededRng } from '../../core/domain/seeded-rng.js';
import type { Clock } from '../../core/ports/clock.js';
import { describeError } from '../../core/ports/errors.js';
import type { Logger } from '../../core/ports/logger.js';
import { findPolicy, policyNames } from '../../core/scheduler/policies.js';
import type { CrunchRunEnv } from '../../core/pool/config-data.js';
import { ControllerClient } from '../controller/controller-client.js';
import { acquireDispatchLock, type DispatchLock } from '../dblock/dispatch-lock.js';
import { createEc2InstanceSet, type Ec2InstanceSet } from '../ec2/ec2-instance-set.js';
import { createManagementHandler } from '../management/management-handler.js';
import { pickListenAddress, startManagementServer, type ListenAddress, type RunningServer } from '../management/management-server.js';
import { queueViewOf } from '../management/queue-view.js';
import { loadTlsCredentials, TlsConfigError, type TlsCredentials } from '../management/tls-files.js';
import { PromMetrics } from '../metrics/prom-metrics.js';
import { sshSettingsFromConfig, type SshSettings } from '../ssh/ssh-config.js';
import { sshExecutorFactory } from '../ssh/ssh-executor.js';
import { SystemClock } from '../system-clock.js';
import { chooseRunner, type RunnerChoice } from './runner-binary.js';

export const DAEMON_STATES = ['starting', 'running', 'stopping', 'stopped'] as const;
export type DaemonState = (typeof DAEMON_STATES)[number];

/** The config cannot run a daemon: bad input (exit 2), with the setting's path in the message. */
export class DaemonConfigError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DaemonConfigError';
  }
}

export interface DaemonOptions {
  readonly config: ClusterConfig;
  readonly logger: Logger;
  /** Default: the system clock. */
  readonly clock?: Clock;
  /** Mapper policy name; default `arvados`. */
  readonly policy?: string;
  /** For `$ARVADOS_SERVICE_INTERNAL_URL`; default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Aborting it while the daemon waits for the dispatch lock makes start() reject with its reason. */
  readonly signal?: AbortSignal;
  /** Between attempts to take the dispatch lock; default the reference's 5 s (tests shorten it). */
  readonly lockRetryMs?: number;
  /** How long stop() waits for queue and scheduler calls in flight; default 10 s. */
  readonly stopGraceMs?: number;
  /** Logged at start-up, so that a log says which build ran. */
  readonly version?: string;
}

/** Everything checked before anything is started or connected. */
interface Prepared {
  readonly ssh: SshSettings;
  readonly runner: RunnerChoice;
  readonly listen: ListenAddress;
  /** Certificate and key when the listen URL is https. */
  readonly tls: TlsCredentials | null;
  readonly policy: NonNullable<ReturnType<typeof findPolicy>>;
  readonly crunchRunEnv: CrunchRunEnv;
}

/**
 * One running dispatcher: the dispatch lock (when PostgreSQL is configured), the core, and
 * the management API (with /metrics and /_health/ping) on this host's InternalURLs entry.
 *
 * States: starting -> running -> stopping -> stopped. `stop()` stops the dispatcher loop and
 * the pool's probes, closes the management server, the cloud and controller clients, and
 * releases the lock; it never destroys VMs nor kills containers, so that the next dispatcher
 * (this one restarted, or the reference) adopts them from their tags and `crunch-run --list`.
 */
export class Daemon {
  private lifecycle: DaemonState = 'running';
  private stopping: Promise<void> | null = null;
  private resolveDone!: (reason: string) => void;
  /** Resolves with the reason once the daemon has stopped (by stop() or on its own, e.g. lost lock). */
  readonly done: Promise<string>;

  private constructor(
    private readonly opts: DaemonOptions,
    private readonly clock: Clock,
    private readonly core: Core,
    private readonly driver: Ec2InstanceSet,
    private readonly controller: ControllerClient,
    private readonly server: RunningServer,
    private readonly lock: DispatchLock | null,
    /** The management API's base URL as bound (`http://host:port` or `https://host:port`). */
    readonly url: string,
  ) {
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    lock?.lost.addEventListener('abort', () => {
      // Another dispatcher may take the lock now; running on would break "one at a time".
      opts.logger.error('stopping: the dispatch lock is lost');
      void this.stop('dispatch lock lost');
    });
  }

  get state(): DaemonState {
    return this.lifecycle;
  }

  /** Whether the management API serves https (and so reloadTls() has something to do). */
  get tls(): boolean {
    return this.server.tls;
  }

  /**
   * Reads TLS.Certificate and TLS.Key again and serves new connections with them, as the
   * reference does on SIGHUP. A pair that cannot be used is logged (warn) and the current
   * one kept. Resolves true when the new pair is in use; false for a plain http server.
   */
  async reloadTls(): Promise<boolean> {
    if (!this.server.tls) return false;
    const log = this.opts.logger;
    const config = this.opts.config;
    try {
      const creds = await loadTlsCredentials(config.TLS, `Clusters.${config.ClusterID}`);
      this.server.setTls(creds);
      log.info('TLS certificate reloaded', { Certificate: creds.certFile, ValidTo: creds.validTo });
      return true;
    } catch (e) {
      log.warn('error updating TLS certificate; keeping the current one', { err: describeError(e) });
      return false;
    }
  }

  /**
   * Validates the config, takes the dispatch lock, and starts everything.
   * @throws DaemonConfigError for config values that cannot work (bad input)
   * @throws Error when the management API cannot listen, or the signal aborts the wait for the lock
   */
  static async start(opts: DaemonOptions): Promise<Daemon> {
    // Unref'd: while running, the management server keeps the process up; once stopped, a
    // timer left in the core must not keep a stopped daemon from exiting.
    const clock = opts.clock ?? new SystemClock({ unref: true });
    const config = opts.config;
    const log = opts.logger;
    const p = await prepare(config, opts, clock, log);
    if (p.runner.warning !== null) log.warn(p.runner.warning);
    let controller: ControllerClient;
    try {
      controller = new ControllerClient({
        baseUrl: config.Services.Controller.ExternalURL,
        token: config.SystemRootToken,
        clock,
        insecure: config.TLS.Insecure,
        timeoutMs: config.API.RequestTimeout,
        maxConcurrentRequests: config.API.MaxConcurrentRequests,
      });
    } catch (e) {
      throw new DaemonConfigError(`Clusters.${config.ClusterID}.Services.Controller.ExternalURL: ${describeError(e)}`, { cause: e });
    }

    let lock: DispatchLock | null = null;
    if (Object.keys(config.PostgreSQL.Connection).length > 0) {
      log.info('taking the dispatch lock');
      lock = await acquireDispatchLock({
        connection: config.PostgreSQL.Connection,
        // Ref'd timers while waiting: nothing else keeps the process up before the server listens.
        clock: new SystemClock(),
        logger: log,
        ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
        ...(opts.lockRetryMs !== undefined ? { retryMs: opts.lockRetryMs } : {}),
      });
      log.info('holding the dispatch lock');
    }

    const instanceSetId = instanceSetIdFromToken(config.SystemRootToken);
    const metrics = new PromMetrics();
    if (opts.version !== undefined) {
      // The reference's service-wide gauge, outside the dispatchcloud subsystem.
      new PromMetrics({ registry: metrics.registry, prefix: 'arvados_' }).gauge('version_running', 'Indicated version is running.', ['version']).set({ version: opts.version }, 1);
    }
    let driver: Ec2InstanceSet;
    try {
      driver = createEc2InstanceSet({
        driverParameters: config.Containers.CloudVMs.DriverParameters,
        path: `Clusters.${config.ClusterID}.Containers.CloudVMs.DriverParameters`,
        instanceSetId,
        logger: log.child({ Component: 'ec2' }),
        clock,
        metrics,
      });
    } catch (e) {
      controller.close();
      await lock?.release();
      if (e instanceof ConfigError) throw new DaemonConfigError(e.message, { cause: e });
      throw e;
    }
    const core = assembleCore({
      config,
      clock,
      // Production randomness (instance secrets, jitter) must not be predictable.
      rng: new SeededRng(randomBytes(16).toString('hex')),
      logger: log,
      metrics,
      driver,
      newExecutor: sshExecutorFactory(p.ssh.executor),
      controller,
      policy: p.policy,
      instanceSetId,
      runner: p.runner.runner,
      crunchRunEnv: p.crunchRunEnv,
      driverName: config.Containers.CloudVMs.Driver,
      publicKey: p.ssh.deployPublicKey,
    });

    let daemon: Daemon | null = null;
    const handler = createManagementHandler({
      token: config.ManagementToken,
      pool: core.pool,
      queue: queueViewOf(core.dispatcher),
      registry: metrics.registry,
      health: () => (daemon?.state === 'running' ? Promise.resolve() : Promise.reject(new Error(`dispatcher is ${daemon?.state ?? 'starting'}`))),
      clock,
      logger: log.child({ Component: 'management' }),
    });
    let server: RunningServer;
    try {
      server = await startManagementServer(handler, p.listen, { requestTimeoutMs: config.API.RequestTimeout, ...(p.tls !== null ? { tls: p.tls } : {}) });
    } catch (e) {
      driver.stop();
      controller.close();
      await lock?.release();
      throw e;
    }
    const host = server.host.includes(':') ? `[${server.host}]` : server.host;
    daemon = new Daemon(opts, clock, core, driver, controller, server, lock, `${server.tls ? 'https' : 'http'}://${host}:${server.port}`);
    core.dispatcher.start();
    log.info('dispatcher started', {
      ...(opts.version !== undefined ? { Version: opts.version } : {}),
      Listen: daemon.url,
      InstanceSetID: instanceSetId,
      Policy: p.policy.name,
      Runner: p.runner.runner?.command ?? config.Containers.CrunchRunCommand,
      DispatchLock: lock !== null,
      ...(p.tls !== null ? { Certificate: p.tls.certFile, CertificateValidTo: p.tls.validTo } : {}),
    });
    return daemon;
  }

  /**
   * Graceful stop; idempotent (later calls return the same promise). Leaves every VM and
   * container as it is.
   */
  stop(reason = 'stop requested'): Promise<void> {
    this.stopping ??= this.doStop(reason);
    return this.stopping;
  }

  private async doStop(reason: string): Promise<void> {
    const log = this.opts.logger;
    this.lifecycle = 'stopping';
    const instances = this.core.dispatcher.instances().length;
    log.info('stopping dispatcher', { Reason: reason, Instances: instances });
    this.core.dispatcher.stop();
    // Calls in flight (a lock, an unlock) finish so the controller is left consistent;
    // a controller that never answers must not keep the process up.
    const grace = new AbortController();
    await Promise.race([this.core.dispatcher.idle().catch(() => {}), this.clock.sleep(this.opts.stopGraceMs ?? 10_000, grace.signal).catch(() => {})]);
    grace.abort();
    await this.server.close().catch((e: unknown) => log.warn('closing the management server', { err: describeError(e) }));
    this.driver.stop();
    this.controller.close();
    await this.lock?.release();
    this.lifecycle = 'stopped';
    log.info('dispatcher stopped; instances and containers left for the next dispatcher', { Instances: instances });
    this.resolveDone(reason);
  }
}

async function prepare(config: ClusterConfig, opts: DaemonOptions, clock: Clock, log: Logger): Promise<Prepared> {
  const base = `Clusters.${config.ClusterID}`;
  const vms = config.Containers.CloudVMs;
  if (config.SystemRootToken === '') throw new DaemonConfigError(`${base}.SystemRootToken: expected a token (the dispatcher's controller credential), got nothing`);
  if (config.Services.Controller.ExternalURL === '') throw new DaemonConfigError(`${base}.Services.Controller.ExternalURL: expected the controller's URL, got nothing`);
  if (vms.Driver !== 'ec2') throw new DaemonConfigError(`${base}.Containers.CloudVMs.Driver: expected "ec2" (the only driver), got ${JSON.stringify(vms.Driver)}`);
  if (vms.ImageID === '') throw new DaemonConfigError(`${base}.Containers.CloudVMs.ImageID: expected an image ID, got nothing`);
  if (Object.keys(config.InstanceTypes).length === 0) throw new DaemonConfigError(`${base}.InstanceTypes: expected at least one instance type`);
  const policyName = opts.policy ?? 'arvados';
  const policy = findPolicy(policyName);
  if (policy === undefined) throw new DaemonConfigError(`--policy: expected one of ${policyNames().join(', ')}, got ${JSON.stringify(policyName)}`);
  let ssh: SshSettings;
  try {
    ssh = sshSettingsFromConfig(config, { clock, logger: log.child({ Component: 'ssh' }) });
  } catch (e) {
    throw new DaemonConfigError(`${base}.Containers.DispatchPrivateKey: ${describeError(e).replace(/^reading Containers\.DispatchPrivateKey: /, '')}`, { cause: e });
  }
  let runner: RunnerChoice;
  try {
    runner = await chooseRunner(vms);
  } catch (e) {
    throw new DaemonConfigError(`${base}.Containers.CloudVMs.DeployRunnerBinary: ${describeError(e)}`, { cause: e });
  }
  let listen: ListenAddress;
  try {
    listen = pickListenAddress(config.Services.DispatchCloud.InternalURLs, opts.env ?? process.env);
  } catch (e) {
    throw new DaemonConfigError(`${base}.Services.DispatchCloud.InternalURLs: ${describeError(e)}`, { cause: e });
  }
  let tls: TlsCredentials | null = null;
  if (listen.tls) {
    try {
      tls = await loadTlsCredentials(config.TLS, base);
    } catch (e) {
      if (e instanceof TlsConfigError) throw new DaemonConfigError(e.message, { cause: e });
      throw e;
    }
    const now = clock.now();
    if (Date.parse(tls.validTo) < now || Date.parse(tls.validFrom) > now) {
      log.warn('the TLS certificate is not valid now: clients that verify it will refuse the management API', { Certificate: tls.certFile, ValidFrom: tls.validFrom, ValidTo: tls.validTo });
    }
  }
  if (config.ManagementToken === '') log.warn('ManagementToken is empty: the management API answers 403 to everything and /metrics is public');
  return { ssh, runner, listen, tls, policy, crunchRunEnv: crunchRunEnvOf(config) };
}

/** ARVADOS_API_HOST as crunch-run wants it: host[:port] of the controller's external URL. */
function crunchRunEnvOf(config: ClusterConfig): CrunchRunEnv {
  const raw = config.Services.Controller.ExternalURL;
  let apiHost = raw;
  try {
    apiHost = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `https://${raw}`).host;
  } catch {
    // The controller client reports the bad URL at start; keep the text here.
  }
  return { apiHost, apiToken: config.SystemRootToken, insecure: config.TLS.Insecure };
}
