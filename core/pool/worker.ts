import type { ClusterConfig } from '../config/cluster-config.js';
import type { Container } from '../domain/container.js';
import type { InstanceType } from '../domain/instance-type.js';
import type { Clock } from '../ports/clock.js';
import { TimeoutError, describeError, CommandError, NoAddressError } from '../ports/errors.js';
import type { ExecResult, Executor } from '../ports/executor.js';
import type { Instance, InstanceTags } from '../ports/instance-set.js';
import type { Logger } from '../ports/logger.js';
import type { HostVerifier } from './host-verifier.js';
import type { IdleBehavior, WorkerState } from './pool-api.js';
import { parseListOutput, RemoteCommands, type ListOutput } from './remote-commands.js';
import { RemoteRunner } from './runner.js';

export type BootOutcome = 'success' | 'failure' | 'aborted' | 'disappeared';

/** A runner binary to deploy: `command` is `<DeployRunnerDirectory>/crunch-run~<md5>`. */
export interface RunnerDeployment {
  readonly command: string;
  readonly md5: string;
  readonly binary: Buffer;
}

/** What a worker needs from its pool (an interface so the probe table can test a worker alone). */
export interface WorkerHost {
  readonly clock: Clock;
  readonly config: ClusterConfig;
  readonly runner: RunnerDeployment | null;
  readonly crunchRunArgs: readonly string[];
  /** Deadline for each remote command (the reference has none; see docs/worker-pool.md). */
  readonly commandTimeoutMs: number;
  /** Deadline for the runner upload, which carries a large stdin. */
  readonly deployTimeoutMs: number;
  stopped(): boolean;
  configData(w: Worker, ctr: Container): Buffer;
  notify(): void;
  /** A strictly increasing stamp, so "changed since" never depends on clock resolution. */
  nextSeq(): number;
  stateChanged(w: Worker, from: WorkerState, to: WorkerState): void;
  runnerAdded(w: Worker, uuid: string): void;
  /** `exited`: leave an exited placeholder (false when the VM vanished). */
  runnerRemoved(w: Worker, uuid: string, exited: boolean): void;
  bootOutcome(w: Worker, outcome: BootOutcome): void;
  runProbeObserved(seconds: number, ok: boolean): void;
  readyObserved(w: Worker): void;
  /** `--detach` returned for `ctr` (queue-to-crunch-run metric). */
  startObserved(ctr: Container): void;
  saveTags(w: Worker): void;
}

/**
 * One VM and everything the pool knows about it: its state machine (Arvados worker.go).
 * Times are ms on the pool's clock; `updatedSeq` marks changes that invalidate a probe
 * in flight.
 */
export class Worker {
  readonly id: string;
  instance: Instance;
  commands: RemoteCommands;
  state: WorkerState;
  idleBehavior: IdleBehavior;
  appeared: number;
  probed: number;
  busy: number;
  destroyed = 0;
  firstSSH = 0;
  lastUUID = '';
  updatedSeq: number;
  /** Stamp of the last listing (or create) that showed this instance. */
  listedSeq: number;
  readonly running = new Map<string, RemoteRunner>();
  readonly starting = new Map<string, RemoteRunner>();
  probing = false;
  bootReported = false;
  staleRunLockSince = 0;
  /** Tags we last wrote (the listed snapshot lags behind setTags). */
  savedTags: InstanceTags | null = null;
  /** The last `--list` output and its parse: a worker's probes mostly see the same output. */
  private lastList: { readonly stdout: string; readonly out: ListOutput } | null = null;
  readonly logger: Logger;

  constructor(
    readonly host: WorkerHost,
    instance: Instance,
    readonly type: InstanceType,
    state: WorkerState,
    idleBehavior: IdleBehavior,
    readonly secret: string,
    readonly executor: Executor,
    readonly target: HostVerifier,
    logger: Logger,
  ) {
    this.id = instance.id;
    this.instance = instance;
    this.commands = new RemoteCommands(host.runner?.command ?? host.config.Containers.CrunchRunCommand, instance.remoteUser());
    this.state = state;
    this.idleBehavior = idleBehavior;
    const now = host.clock.now();
    this.appeared = this.probed = this.busy = now;
    this.updatedSeq = this.listedSeq = host.nextSeq();
    this.logger = logger.child({ Instance: instance.id, InstanceType: type.name });
  }

  private get cfg() {
    return this.host.config.Containers.CloudVMs;
  }

  setState(to: WorkerState, reason: string): void {
    const from = this.state;
    if (from === to) return;
    this.state = to;
    this.host.stateChanged(this, from, to);
    this.logger.info('worker state changed', { From: from, To: to, Reason: reason });
  }

  /** Run one remote command with a deadline enforced on our clock, whatever the executor does. */
  exec(command: string, stdin?: Buffer, timeoutMs = this.host.commandTimeoutMs): Promise<ExecResult> {
    const clock = this.host.clock;
    return new Promise<ExecResult>((resolve, reject) => {
      const timer = clock.setTimer(timeoutMs, () => reject(new TimeoutError(`running remote command on ${this.id}: no answer within ${timeoutMs} ms`)));
      this.executor.execute(command, { stdin, timeoutMs }).then(
        (r) => {
          timer.cancel();
          resolve(r);
        },
        (e: unknown) => {
          timer.cancel();
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      );
    });
  }

  /** One probe at a time; a probe still running when the next tick comes is skipped. */
  async probeAndUpdate(): Promise<void> {
    if (this.probing) {
      this.logger.debug('still waiting for last probe to finish');
      return;
    }
    this.probing = true;
    try {
      await this.probeOnce();
    } finally {
      this.probing = false;
    }
  }

  private async probeOnce(): Promise<void> {
    const clock = this.host.clock;
    const updated = this.updatedSeq;
    const initial = this.state;
    const probeStart = clock.now();
    let booted = false;
    let bootStderr = '';
    if (initial === 'shutdown') return;
    if (initial === 'idle' || initial === 'running') booted = true;
    else {
      const boot = await this.probeBooted();
      booted = boot.ok;
      bootStderr = boot.stderr;
      let shouldCopy = booted || initial === 'unknown';
      if (!booted && (this.state === 'idle' || this.state === 'running')) {
        booted = true; // a concurrent probe won
        shouldCopy = false;
      }
      if (shouldCopy && !(await this.copyRunnerData())) booted = false;
    }
    if (this.host.stopped()) return;

    let listed: readonly string[] = [];
    let broken = false;
    let ok = false;
    if (booted || initial === 'unknown') ({ running: listed, broken, ok } = await this.probeRunning());
    if (this.host.stopped()) return;

    if (broken && this.idleBehavior === 'run') {
      this.logger.warn('probe reported broken instance');
      this.reportBoot('failure');
      this.setIdleBehavior('drain', 'broken node reported');
    }

    if (!ok || (!booted && listed.length === 0 && this.running.size === 0)) {
      if (this.state === 'shutdown') return;
      this.shutdownIfBroken(probeStart - this.probed, bootStderr);
      return;
    }

    this.probed = clock.now();
    if (this.updatedSeq !== updated) return; // state changed under the probe: its result is stale
    if (listed.length > 0) {
      this.busy = clock.now();
      if (this.lastUUID === '') this.lastUUID = listed[0]!;
    } else if (this.running.size > 0) this.busy = clock.now();

    let changed = this.updateRunning(listed);
    if (booted && (this.state === 'unknown' || this.state === 'booting')) {
      if (this.state === 'booting') this.host.readyObserved(this);
      // Deviation from the reference: the idle clock starts when the worker is ready.
      this.busy = clock.now();
      this.setState('idle', 'probes succeeded');
      changed = true;
    }
    if (!changed) return;
    const n = this.running.size + this.starting.size;
    if (this.state === 'idle' && n > 0) this.setState('running', 'probe found containers');
    else if (this.state === 'running' && n === 0) this.setState('idle', 'probe found no containers');
    this.updatedSeq = this.host.nextSeq();
    if (booted && (initial === 'unknown' || initial === 'booting')) {
      this.reportBoot('success');
      this.logger.info('probes succeeded, instance is in service');
    }
    this.host.notify();
  }

  private async probeBooted(): Promise<{ ok: boolean; stderr: string }> {
    const cmd = this.cfg.BootProbeCommand === '' ? 'true' : this.cfg.BootProbeCommand;
    try {
      await this.exec(cmd);
      return { ok: true, stderr: '' };
    } catch (e) {
      const quiet = e instanceof NoAddressError || e instanceof CommandError || e instanceof TimeoutError;
      this.logger[quiet ? 'debug' : 'warn']('boot probe failed', { Command: cmd, error: describeError(e) });
      return { ok: false, stderr: e instanceof CommandError ? e.stderr.toString('utf8') : describeError(e) };
    }
  }

  /** Install the runner binary unless md5sum shows it is there; false on failure. */
  private async copyRunnerData(): Promise<boolean> {
    const r = this.host.runner;
    if (r === null) return true;
    try {
      const sum = await this.exec(this.commands.md5sum());
      if (this.commands.md5Matches(sum.stdout.toString('utf8'), sum.stderr.toString('utf8'), r.md5)) return true;
    } catch {
      // not there yet, or no md5sum: install
    }
    try {
      await this.exec(this.commands.install(), r.binary, this.host.deployTimeoutMs);
      return true;
    } catch (e) {
      this.logger.warn('error copying runner binary', { error: describeError(e) });
      return false;
    }
  }

  private async probeRunning(): Promise<{ running: readonly string[]; broken: boolean; ok: boolean }> {
    const clock = this.host.clock;
    const prices = this.instance.priceHistory(this.type);
    const stdin =
      prices.length > 0
        ? Buffer.from(JSON.stringify(prices.map((p) => ({ StartTime: new Date(p.startTime).toISOString(), Price: p.price }))))
        : undefined;
    const start = clock.now();
    let stdout: string;
    try {
      stdout = (await this.exec(this.commands.list(prices.length > 0), stdin)).stdout.toString('utf8');
    } catch (e) {
      this.host.runProbeObserved((clock.now() - start) / 1000, false);
      this.logger.warn('probe failed', { Command: 'crunch-run --list', error: describeError(e) });
      return { running: [], broken: false, ok: false };
    }
    this.host.runProbeObserved((clock.now() - start) / 1000, true);
    let out: ListOutput;
    if (this.lastList !== null && this.lastList.stdout === stdout) out = this.lastList.out;
    else {
      out = parseListOutput(stdout, this.host.config.ClusterID);
      this.lastList = { stdout, out };
    }
    for (const line of out.rejected) this.logger.error('ignoring malformed crunch-run --list line', { Line: line.slice(0, 80) });
    let broken = out.broken;
    if (out.stale.length === 0) this.staleRunLockSince = 0;
    else if (this.staleRunLockSince === 0) this.staleRunLockSince = clock.now();
    else if (clock.now() - this.staleRunLockSince > this.cfg.TimeoutStaleRunLock) {
      this.logger.warn('reporting broken after reporting stale run lock for too long', { Stale: out.stale });
      broken = true;
    }
    return { running: out.running, broken, ok: true };
  }

  /** Reconcile runners with a `--list`; true when anything changed. */
  private updateRunning(listed: readonly string[]): boolean {
    let changed = false;
    for (const uuid of listed) {
      const st = this.starting.get(uuid);
      if (st !== undefined) {
        this.starting.delete(uuid);
        this.running.set(uuid, st);
        changed = true;
      } else if (!this.running.has(uuid)) {
        this.logger.info('crunch-run process detected', { ContainerUUID: uuid });
        this.running.set(uuid, new RemoteRunner(this, uuid));
        this.host.runnerAdded(this, uuid);
        changed = true;
      }
    }
    // Every runner is listed (the usual probe: none or one); a longer list may repeat a uuid.
    if (listed.length <= 1 && this.running.size === listed.length) return changed;
    const seen = new Set(listed);
    for (const uuid of [...this.running.keys()]) {
      if (!seen.has(uuid)) {
        this.closeRunner(uuid);
        changed = true;
      }
    }
    return changed;
  }

  eligibleForShutdown(): boolean {
    if (this.idleBehavior === 'hold') return false;
    const now = this.host.clock.now();
    const draining = this.idleBehavior === 'drain';
    switch (this.state) {
      case 'booting':
        return draining;
      case 'idle':
        return draining || now - this.busy >= this.cfg.TimeoutIdle;
      case 'running': {
        if (!draining) return false;
        for (const r of this.running.values()) if (!r.givenUp) return false;
        for (const r of this.starting.values()) if (!r.givenUp) return false;
        return true;
      }
      case 'unknown':
        return now - this.appeared >= this.cfg.TimeoutBooting;
      default:
        return false;
    }
  }

  /** Shut down if idle/draining/boot-timed-out; true when it did. */
  shutdownIfIdle(): boolean {
    if (!this.eligibleForShutdown()) return false;
    const reason = this.state === 'unknown' ? 'boot timeout' : this.idleBehavior === 'drain' ? 'draining' : 'idle timeout';
    this.reportBoot('aborted');
    this.shutdown(reason);
    return true;
  }

  shutdownIfBroken(sinceProbed: number, stderr = ''): boolean {
    if (this.idleBehavior === 'hold') return false;
    const booting = this.state === 'unknown' || this.state === 'booting';
    const limit = booting ? this.cfg.TimeoutBooting : this.cfg.TimeoutProbe;
    if (sinceProbed < limit) return false;
    if (!this.bootReported) {
      this.logger.info('boot failed', { stderr: stderr.slice(0, 1000) });
      this.reportBoot('failure');
    }
    this.shutdown(booting ? 'boot timeout' : 'probe timeout');
    return true;
  }

  /** Ask the cloud to destroy the VM; sync retries after TimeoutShutdown until it is gone. */
  shutdown(reason: string): void {
    this.destroyed = this.host.clock.now();
    this.updatedSeq = this.host.nextSeq();
    this.setState('shutdown', reason);
    this.host.notify();
    this.instance.destroy().then(
      () => undefined,
      (e: unknown) => this.logger.warn('shutdown failed', { error: describeError(e) }),
    );
  }

  setIdleBehavior(b: IdleBehavior, reason: string): void {
    if (this.idleBehavior !== b) this.logger.info('idle behavior changed', { From: this.idleBehavior, To: b, Reason: reason });
    this.idleBehavior = b;
    this.host.saveTags(this);
    this.shutdownIfIdle();
  }

  startContainer(ctr: Container): void {
    const rr = new RemoteRunner(this, ctr.uuid);
    this.starting.set(ctr.uuid, rr);
    this.host.runnerAdded(this, ctr.uuid);
    if (this.state !== 'running') {
      this.setState('running', 'container starting');
      this.host.notify();
    }
    void rr.start(ctr).then(() => {
      if (this.host.stopped()) return;
      this.host.startObserved(ctr);
      if (this.starting.get(ctr.uuid) === rr) {
        this.starting.delete(ctr.uuid);
        this.running.set(ctr.uuid, rr);
        const now = this.host.clock.now();
        this.updatedSeq = this.host.nextSeq();
        this.busy = now;
        this.lastUUID = ctr.uuid;
        this.host.notify();
      }
    });
  }

  closeRunner(uuid: string): void {
    const rr = this.running.get(uuid);
    if (rr === undefined) return;
    this.logger.info('crunch-run process ended', { ContainerUUID: uuid });
    this.running.delete(uuid);
    rr.close();
    this.updatedSeq = this.host.nextSeq();
    this.host.runnerRemoved(this, uuid, true);
    if (this.state === 'running' && this.running.size + this.starting.size === 0) this.setState('idle', 'last container ended');
  }

  onKilled(uuid: string): void {
    this.closeRunner(uuid);
    this.host.notify();
  }

  onUnkillable(uuid: string): void {
    if (this.idleBehavior === 'hold') {
      this.logger.warn('unkillable container, but worker has IdleBehavior=hold', { ContainerUUID: uuid });
      return;
    }
    this.logger.warn('unkillable container, draining worker', { ContainerUUID: uuid });
    this.setIdleBehavior('drain', 'unkillable container');
  }

  reportBoot(outcome: BootOutcome): void {
    if (this.bootReported) return;
    this.bootReported = true;
    this.host.bootOutcome(this, outcome);
  }

  /** The VM is gone: forget its runners without exited placeholders, drop connections. */
  close(): void {
    for (const m of [this.running, this.starting]) {
      for (const [uuid, rr] of m) {
        rr.close();
        this.host.runnerRemoved(this, uuid, false);
      }
      m.clear();
    }
    this.executor.close();
  }
}
