import type { ClusterConfig, CloudVMsConfig } from '../config/cluster-config.js';
import { isContainerUuid, type Container } from '../domain/container.js';
import type { InstanceType } from '../domain/instance-type.js';
import type { Clock, Timer } from '../ports/clock.js';
import { NotFoundError, describeError } from '../ports/errors.js';
import type { ExecutorFactory } from '../ports/executor.js';
import type { Instance, InstanceSet, InstanceTags } from '../ports/instance-set.js';
import type { Logger } from '../ports/logger.js';
import { nullMetrics, type Metrics } from '../ports/metrics.js';
import type { Rng } from '../ports/rng.js';
import { type CrunchRunEnv, configData } from './config-data.js';
import { HostVerifier } from './host-verifier.js';
import { buildViews, instanceViewJson, unconfiguredType, type InstanceViewJson, type PoolViews } from './instance-view.js';
import { type IdleBehavior, type ManagedWorkerPool, type PoolSnapshot, type WorkerState } from './pool-api.js';
import { PoolMetrics } from './pool-metrics.js';
import { ProbeScheduler } from './probe-scheduler.js';
import { RemoteCommands } from './remote-commands.js';
import { initCommand, newInstanceSecret, parseIdleBehavior, tagKeys, type TagKeys } from './tags.js';
import { Throttle } from './throttle.js';
import { CreateLimits } from './create-limits.js';
import { Worker, type BootOutcome, type RunnerDeployment, type WorkerHost } from './worker.js';

export interface PoolOptions {
  readonly config: ClusterConfig;
  readonly clock: Clock;
  /** Probe jitter and instance secrets (forked into independent streams). */
  readonly rng: Rng;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  /** The decorated instance set (core/cloud/wrap-instance-set.ts). */
  readonly instanceSet: InstanceSet;
  readonly newExecutor: ExecutorFactory;
  readonly instanceSetId: string;
  /** Runner binary to deploy, or null to run CrunchRunCommand as installed. */
  readonly runner: RunnerDeployment | null;
  readonly crunchRunEnv: CrunchRunEnv;
  /** HMAC key for GatewayAuthSecret. */
  readonly systemRootToken: string;
  /** 'ec2' turns on EC2SpotCheck for preemptible types. */
  readonly driverName: string;
  /** authorized_keys line for new VMs, or null. */
  readonly publicKey: string | null;
  /** The cluster config as Arvados JSON, sent to crunch-run when keep buffers are on. */
  readonly clusterJson?: unknown;
  /** Deadline per remote command; default 60 s (the reference has none). */
  readonly commandTimeoutMs?: number;
}

const METRICS_INTERVAL = 1_000;

/**
 * The worker pool (Arvados worker/pool.go) over the ports only: creates VMs, adopts VMs
 * from the cloud listing, probes them, runs containers on them and shuts them down. See
 * docs/worker-pool.md for states, timeouts and where we differ from the reference.
 */
export class Pool implements ManagedWorkerPool, WorkerHost {
  readonly clock: Clock;
  readonly config: ClusterConfig;
  readonly runner: RunnerDeployment | null;
  readonly crunchRunArgs: readonly string[];
  readonly commandTimeoutMs: number;
  readonly deployTimeoutMs: number;
  private readonly cfg: CloudVMsConfig;
  private readonly keys: TagKeys;
  private readonly log: Logger;
  private readonly pm: PoolMetrics | null;
  private readonly secretRng: Rng;
  private readonly workers = new Map<string, Worker>();
  private readonly creating = new Map<string, { readonly time: number; readonly type: InstanceType }>();
  /** uuid → worker running or starting it. */
  private readonly byContainer = new Map<string, Worker>();
  private readonly exited = new Map<string, number>();
  private readonly counts: Record<WorkerState, number> = { unknown: 0, booting: 0, idle: 0, running: 0, shutdown: 0 };
  private readonly limits: CreateLimits;
  private readonly throttleInstances: Throttle;
  private readonly probes: ProbeScheduler;
  private readonly subscribers = new Set<() => void>();
  private notifyTimer: Timer | null = null;
  private metricsTimer: Timer | null = null;
  private syncTimer: Timer | null = null;
  private seq = 0;
  private version = 0;
  private cached: (PoolViews & { version: number }) | null = null;
  private loaded = false;
  private resolveLoaded!: () => void;
  private readonly loadedPromise: Promise<void>;
  private isStopped = false;
  private started = false;

  constructor(private readonly opts: PoolOptions) {
    this.clock = opts.clock;
    this.cfg = withFallbacks(opts.config.Containers.CloudVMs);
    this.config = { ...opts.config, Containers: { ...opts.config.Containers, CloudVMs: this.cfg } };
    this.runner = opts.runner;
    this.crunchRunArgs = [`--runtime-engine=${opts.config.Containers.RuntimeEngine}`, ...opts.config.Containers.CrunchRunArgumentsList];
    this.commandTimeoutMs = opts.commandTimeoutMs ?? 60_000;
    this.deployTimeoutMs = Math.max(this.commandTimeoutMs, 10 * 60_000);
    this.keys = tagKeys(this.cfg.TagKeyPrefix);
    this.log = opts.logger.child({ component: 'pool' });
    this.pm = opts.metrics === undefined || opts.metrics === nullMetrics ? null : new PoolMetrics(opts.metrics);
    this.secretRng = opts.rng.fork('instance-secret');
    this.limits = new CreateLimits(this.clock, this.cfg, (t) => opts.instanceSet.instanceQuotaGroup(t), () => this.notify());
    this.throttleInstances = new Throttle(this.clock, () => this.notify());
    this.probes = new ProbeScheduler(this.clock, opts.rng.fork('probe-jitter'), this.cfg, () => this.probeTick());
    this.loadedPromise = new Promise((r) => (this.resolveLoaded = r));
  }

  // ---- WorkerPool -------------------------------------------------------------------

  start(): void {
    if (this.started) return;
    this.started = true;
    void this.runSync();
    this.probes.start();
  }

  stop(): void {
    if (this.isStopped) return;
    this.isStopped = true;
    this.probes.stop();
    this.syncTimer?.cancel();
    this.notifyTimer?.cancel();
    this.metricsTimer?.cancel();
    this.limits.stop();
    this.throttleInstances.stop();
    for (const w of this.workers.values()) {
      for (const rr of [...w.running.values(), ...w.starting.values()]) rr.close();
      w.executor.close();
    }
  }

  whenLoaded(): Promise<void> {
    return this.loadedPromise;
  }

  subscribe(fn: () => void): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  create(type: InstanceType): boolean {
    if (this.isStopped || !this.limits.admit(type, this.workers.size + this.creating.size, this.creating.size)) return false;
    const secret = newInstanceSecret(this.secretRng);
    this.creating.set(secret, { time: this.clock.now(), type });
    this.notify();
    void this.createInBackground(type, secret);
    return true;
  }

  shutdown(instanceId: string): boolean {
    const w = this.workers.get(instanceId);
    if (w === undefined || w.idleBehavior === 'hold' || (w.state !== 'booting' && w.state !== 'idle')) return false;
    w.reportBoot('aborted');
    w.shutdown('requested by scheduler');
    return true;
  }

  startContainer(instanceId: string, ctr: Container): boolean {
    if (!isContainerUuid(ctr.uuid)) {
      this.log.error('refusing to start container: malformed uuid', { ContainerUUID: ctr.uuid.slice(0, 64) });
      return false;
    }
    const w = this.workers.get(instanceId);
    if (w === undefined || (w.state !== 'idle' && w.state !== 'running') || w.idleBehavior !== 'run') return false;
    const other = this.byContainer.get(ctr.uuid);
    if (other !== undefined) {
      this.log.warn('refusing to start container: already on a worker', { ContainerUUID: ctr.uuid, Instance: other.id });
      return false;
    }
    const max = this.cfg.MaxRunningContainersPerInstance;
    if (max > 0 && w.running.size + w.starting.size >= max) return false;
    this.exited.delete(ctr.uuid);
    w.startContainer(ctr);
    return true;
  }

  killContainer(uuid: string, reason: string): boolean {
    const w = this.byContainer.get(uuid);
    const rr = w?.running.get(uuid) ?? w?.starting.get(uuid);
    if (rr === undefined) return false;
    rr.kill(reason);
    return true;
  }

  forgetContainer(uuid: string): void {
    if (this.exited.delete(uuid)) this.version++;
  }

  killInstance(instanceId: string, reason: string): void {
    const w = this.workers.get(instanceId);
    if (w === undefined) throw new NotFoundError(`killing instance ${instanceId}: instance not found`);
    w.logger.info('shutting down', { Reason: reason });
    w.reportBoot('aborted');
    w.shutdown(reason);
  }

  setIdleBehavior(instanceId: string, behavior: IdleBehavior): void {
    const w = this.workers.get(instanceId);
    if (w === undefined) throw new NotFoundError(`setting idle behavior of ${instanceId}: instance not found`);
    w.setIdleBehavior(behavior, 'requested');
    this.notify();
  }

  snapshot(): PoolSnapshot {
    const c = this.views();
    return {
      instances: c.instances,
      running: c.running,
      workerCounts: { ...this.counts },
      atQuota: this.atQuota(),
      createBlocked: this.limits.createBlocked(this.creating.size),
      atCapacity: this.limits.capacityAt(),
    };
  }

  /** Every worker and pending create as the management API shows them. */
  view(): InstanceViewJson[] {
    return this.views().instances.map(instanceViewJson);
  }

  /** Whether creating `type` is blocked by a capacity error now. */
  atCapacity(type: InstanceType): boolean {
    return this.limits.atCapacity(type);
  }

  /** Workers plus creates in flight reach MaxInstances, or a quota error is in force. */
  atQuota(): boolean {
    return this.limits.atQuota(this.workers.size + this.creating.size);
  }

  /** True once the first listing has been loaded. */
  isLoaded(): boolean {
    return this.loaded;
  }

  // ---- WorkerHost -------------------------------------------------------------------

  stopped(): boolean {
    return this.isStopped;
  }

  nextSeq(): number {
    return ++this.seq;
  }

  notify(): void {
    this.version++;
    if (this.isStopped) return;
    this.notifyTimer ??= this.clock.setTimer(0, () => {
      this.notifyTimer = null;
      for (const fn of [...this.subscribers]) fn();
    });
    if (this.pm !== null) {
      this.metricsTimer ??= this.clock.setTimer(METRICS_INTERVAL, () => {
        this.metricsTimer = null;
        this.pm?.update(this.workers.values(), this.clock.now());
      });
    }
  }

  stateChanged(_w: Worker, from: WorkerState, to: WorkerState): void {
    this.counts[from]--;
    this.counts[to]++;
    this.version++;
  }

  runnerAdded(w: Worker, uuid: string): void {
    this.byContainer.set(uuid, w);
    this.exited.delete(uuid);
    this.version++;
  }

  runnerRemoved(w: Worker, uuid: string, exited: boolean): void {
    if (this.byContainer.get(uuid) === w) this.byContainer.delete(uuid);
    if (exited) this.exited.set(uuid, this.clock.now());
    this.version++;
  }

  bootOutcome(_w: Worker, outcome: BootOutcome): void {
    this.pm?.bootOutcome(outcome);
  }

  runProbeObserved(seconds: number, ok: boolean): void {
    this.pm?.runProbeObserved(seconds, ok);
  }

  readyObserved(w: Worker): void {
    if (w.firstSSH > 0) this.pm?.readyObserved((this.clock.now() - w.firstSSH) / 1000);
  }

  startObserved(ctr: Container): void {
    this.pm?.startObserved((this.clock.now() - ctr.createdAt) / 1000);
  }

  configData(w: Worker, ctr: Container): Buffer {
    return configData({
      uuid: ctr.uuid,
      type: w.type,
      address: w.instance.address(),
      env: this.opts.crunchRunEnv,
      systemRootToken: this.opts.systemRootToken,
      keepBuffersPerVCPU: this.config.Containers.LocalKeepBlobBuffersPerVCPU,
      clusterJson: this.opts.clusterJson ?? null,
      ec2SpotCheck: this.opts.driverName === 'ec2' && w.type.preemptible,
    });
  }

  /** Make the InstanceType and IdleBehavior tags match the worker (one SetTags of all tags). */
  saveTags(w: Worker): void {
    this.version++;
    const k = this.keys;
    const cur = w.savedTags ?? w.instance.tags;
    if (cur[k.instanceType] === w.type.name && cur[k.idleBehavior] === w.idleBehavior) return;
    const tags: InstanceTags = { ...w.instance.tags, [k.instanceType]: w.type.name, [k.idleBehavior]: w.idleBehavior };
    w.savedTags = tags;
    w.instance.setTags(tags).then(
      () => undefined,
      (e: unknown) => {
        w.savedTags = null;
        w.logger.warn('error updating tags', { error: describeError(e) });
      },
    );
  }

  // ---- internals --------------------------------------------------------------------

  private async createInBackground(type: InstanceType, secret: string): Promise<void> {
    const k = this.keys;
    const tags: InstanceTags = {
      [k.instanceSetId]: this.opts.instanceSetId,
      [k.instanceType]: type.name,
      [k.idleBehavior]: 'run',
      [k.instanceSecret]: secret,
    };
    let inst: Instance;
    try {
      inst = await this.opts.instanceSet.create({
        type,
        imageId: this.cfg.ImageID,
        tags,
        initCommand: initCommand(secret, this.cfg.InstanceInitCommand),
        publicKey: this.opts.publicKey,
      });
    } catch (e) {
      if (this.isStopped) return;
      this.log.error('create failed', { InstanceType: type.name, error: describeError(e) });
      this.limits.failed(type, e, this.workers.size + this.creating.size);
      this.creating.delete(secret);
      this.notify();
      return;
    }
    if (this.isStopped) return;
    this.updateWorker(inst, type);
    this.creating.delete(secret);
    this.notify();
  }

  /** Add a newly seen instance, or refresh a known one; returns the worker. */
  private updateWorker(inst: Instance, createdType: InstanceType | null): Worker {
    const k = this.keys;
    const now = this.clock.now();
    const known = this.workers.get(inst.id);
    if (known !== undefined) {
      known.instance = inst;
      known.target.update(inst);
      known.executor.setTarget(known.target);
      known.listedSeq = this.nextSeq();
      this.saveTags(known);
      if (known.state === 'shutdown' && now - known.destroyed > this.cfg.TimeoutShutdown) {
        known.logger.info('instance still listed after TimeoutShutdown; retrying destroy');
        known.shutdown('still listed after shutdown');
      }
      return known;
    }
    const secret = inst.tags[k.instanceSecret] ?? '';
    const typeName = inst.tags[k.instanceType] ?? '';
    const type = createdType ?? this.config.InstanceTypes[typeName] ?? unconfiguredType(typeName);
    const booting = secret !== '' && this.creating.has(secret);
    let idle: IdleBehavior = booting ? 'run' : (parseIdleBehavior(inst.tags[k.idleBehavior]) ?? 'run');
    if (type.providerType === '' && idle !== 'hold') idle = 'drain';
    let w: Worker | null = null;
    const target = new HostVerifier(inst, secret, new RemoteCommands('crunch-run', inst.remoteUser()).catSecret(), () => {
      if (w !== null && w.firstSSH === 0 && w.state === 'booting') {
        w.firstSSH = this.clock.now();
        this.pm?.sshObserved((w.firstSSH - w.appeared) / 1000);
      }
    });
    const executor = this.opts.newExecutor(target);
    w = new Worker(this, inst, type, booting ? 'booting' : 'unknown', idle, secret, executor, target, this.log);
    this.workers.set(inst.id, w);
    this.counts[w.state]++;
    this.version++;
    w.logger.info('instance appeared in cloud', { IdleBehavior: idle, WorkerState: w.state });
    this.saveTags(w);
    return w;
  }

  private async runSync(): Promise<void> {
    if (this.isStopped) return;
    await this.getInstancesAndSync();
    if (this.isStopped) return;
    this.syncTimer = this.clock.setTimer(this.cfg.SyncInterval, () => void this.runSync());
  }

  private async getInstancesAndSync(): Promise<void> {
    if (this.throttleInstances.active()) return;
    const threshold = this.nextSeq();
    let list: readonly Instance[];
    try {
      list = await this.opts.instanceSet.instances({ [this.keys.instanceSetId]: this.opts.instanceSetId });
    } catch (e) {
      if (this.isStopped) return;
      this.throttleInstances.checkRateLimitError(e);
      this.log.warn('error listing instances', { error: describeError(e) });
      return;
    }
    if (this.isStopped) return;
    this.sync(threshold, list);
  }

  private sync(threshold: number, list: readonly Instance[]): void {
    const seen = new Set<string>();
    let changed = false;
    let foreign = 0;
    for (const inst of list) {
      // Never adopt, probe or destroy a VM that is not tagged as ours, whatever the driver returned.
      if (inst.tags[this.keys.instanceSetId] !== this.opts.instanceSetId) {
        foreign++;
        continue;
      }
      if (seen.has(inst.id)) continue;
      seen.add(inst.id);
      if (!this.workers.has(inst.id)) changed = true;
      this.updateWorker(inst, null);
    }
    if (foreign > 0) this.log.warn('ignoring instances without our InstanceSetID tag', { count: foreign });
    const now = this.clock.now();
    for (const [id, w] of this.workers) {
      if (seen.has(id) || w.listedSeq > threshold) continue;
      w.logger.info('instance disappeared in cloud', { WorkerState: w.state });
      this.pm?.instanceDisappeared(w.state);
      w.reportBoot('disappeared');
      if (w.state === 'shutdown' && w.destroyed > 0) this.pm?.goneObserved((now - w.destroyed) / 1000);
      w.close();
      this.workers.delete(id);
      this.counts[w.state]--;
      changed = true;
    }
    if (this.limits.synced(this.workers.size + this.creating.size)) changed = true;
    if (!this.loaded) {
      this.loaded = true;
      this.resolveLoaded();
      changed = true;
    }
    if (changed) this.notify();
  }

  /** One probe tick: shut down idle workers, return the rest to probe. */
  private probeTick(): Worker[] {
    const list: Worker[] = [];
    for (const w of this.workers.values()) {
      if (w.state === 'shutdown' || w.shutdownIfIdle()) continue;
      list.push(w);
    }
    return list;
  }

  private views(): PoolViews {
    if (this.cached?.version !== this.version) {
      this.cached = { version: this.version, ...buildViews(this.workers.values(), this.creating.values(), this.byContainer.keys(), this.exited) };
    }
    return this.cached;
  }
}


/** The pool's own fallbacks for zero values (Arvados pool.go). */
function withFallbacks(c: CloudVMsConfig): CloudVMsConfig {
  const or = (v: number, d: number) => (v > 0 ? v : d);
  return {
    ...c,
    SyncInterval: or(c.SyncInterval, 60_000),
    ProbeInterval: or(c.ProbeInterval, 10_000),
    MaxProbesPerSecond: or(c.MaxProbesPerSecond, 10),
    TimeoutIdle: or(c.TimeoutIdle, 60_000),
    TimeoutBooting: or(c.TimeoutBooting, 600_000),
    TimeoutProbe: or(c.TimeoutProbe, 600_000),
    TimeoutShutdown: or(c.TimeoutShutdown, 10_000),
    TimeoutTERM: or(c.TimeoutTERM, 120_000),
    TimeoutSignal: or(c.TimeoutSignal, 5_000),
    TimeoutStaleRunLock: or(c.TimeoutStaleRunLock, 5_000),
    TagKeyPrefix: c.TagKeyPrefix === '' ? 'Arvados' : c.TagKeyPrefix,
  };
}

