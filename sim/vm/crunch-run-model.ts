import type { Clock, Timer } from '../../core/ports/clock.js';
import type { Rng } from '../../core/ports/rng.js';
import type { ContainerPlan, CrunchRunConfig, CrunchRunWorld } from './crunch-run-world.js';
import type { VmFilesystem } from './vm-filesystem.js';

/** What one command produced (the VM turns it into a CommandOutcome). */
export interface Output {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Timing and fault knobs of the simulated crunch-run (all durations in ms). */
export interface CrunchRunBehavior {
  /** From `--detach` to crunch-run setting the container Running. */
  readonly startupMs: number;
  /** From SIGTERM to the process being gone (not for hung processes). */
  readonly killDelayMs: number;
  /** How long `--kill` polls for the process to die before exit 1 (reference: 1 s). */
  readonly killWaitMs: number;
  /** Probability that an abnormal exit (signal, non-zero outcome) leaves the lock held. */
  readonly staleLockRate: number;
  /** How long such a lock stays held; Infinity = until the VM goes away (arv-mount deadlock). */
  readonly staleLockMs: number;
}

export const DEFAULT_CRUNCH_RUN_BEHAVIOR: CrunchRunBehavior = {
  startupMs: 1_000,
  killDelayMs: 200,
  killWaitMs: 1_000,
  staleLockRate: 0,
  staleLockMs: Infinity,
};

/** Accounting hooks the cloud's ledger listens to. */
export interface ProcessHooks {
  /** A `--detach` was accepted for `uuid`. */
  containerStarted(uuid: string): void;
  /** The number of live crunch-run processes changed. */
  busyChanged(liveProcesses: number): void;
}

interface Proc {
  readonly uuid: string;
  readonly pid: number;
  phase: 'starting' | 'running' | 'exited';
  readonly hung: boolean;
  readonly spotCheck: boolean;
  dying: boolean;
  timer: Timer | null;
}

const UUID = /^[0-9a-z]{5}-[0-9a-z]{5}-[0-9a-z]{15}$/;

/**
 * The process table of crunch-run on one VM, with the lock-file semantics of
 * crunch-run's background.go: one lock per container uuid, held while the process lives
 * and possibly after it exits (`<uuid> stale`), released when the holder goes.
 */
export class CrunchRunModel {
  private readonly procs = new Map<string, Proc>();
  private nextPid = 4000;
  private live = 0;
  private halted = false;
  /** The last `--list` output and whether the broken flag was set then; null after any
   * change to the process table. Probes list millions of times, mostly without a change. */
  private listed: Output | null = null;
  private listedBroken = false;

  constructor(
    private readonly clock: Clock,
    private readonly rng: Rng,
    private readonly world: CrunchRunWorld,
    private readonly instanceId: string,
    private readonly behavior: CrunchRunBehavior,
    private readonly fs: VmFilesystem,
    private readonly hooks: ProcessHooks,
  ) {}

  /** `--list [--stdin-prices]`. */
  list(stdinPrices: boolean, stdin: Buffer): Output {
    if (stdinPrices && stdin.length > 0) {
      const err = checkPrices(stdin);
      if (err !== null) return { exitCode: 1, stdout: '', stderr: `reading prices from stdin: ${err}\n` };
      this.fs.write('/var/lock/crunch-run-prices.json', stdin, 'root', 0o022);
    }
    const broken = this.fs.has('/var/lock/crunch-run-broken');
    if (this.listed !== null && this.listedBroken === broken) return this.listed;
    const entries: [string, string][] = [];
    if (broken) entries.push(['crunch-run-broken', 'broken']);
    for (const p of this.procs.values()) {
      entries.push([`crunch-run-${p.uuid}.lock`, p.phase === 'exited' ? `${p.uuid} stale` : p.uuid]);
    }
    entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    this.listedBroken = broken;
    return (this.listed = { exitCode: 0, stdout: entries.map((e) => e[1] + '\n').join(''), stderr: '' });
  }

  /** `--detach [--stdin-config] <uuid>`: the config was validated by the caller. */
  detach(uuid: string, config: CrunchRunConfig): Output {
    if (!UUID.test(uuid)) return { exitCode: 1, stdout: '', stderr: `invalid container UUID ${JSON.stringify(uuid)}\n` };
    if (this.procs.has(uuid)) {
      return {
        exitCode: 1,
        stdout: '',
        stderr: `error: lock /var/lock/crunch-run-${uuid}.lock: resource temporarily unavailable\n`,
      };
    }
    const plan = this.world.containerStarting(uuid, config, this.instanceId);
    const pid = this.nextPid++;
    const p: Proc = {
      uuid,
      pid,
      phase: 'starting',
      hung: 'outcome' in plan && plan.outcome === 'hang',
      spotCheck: config.EC2SpotCheck === true,
      dying: false,
      timer: null,
    };
    this.procs.set(uuid, p);
    this.listed = null;
    this.setLive(this.live + 1);
    this.hooks.containerStarted(uuid);
    p.timer = this.clock.setTimer(this.behavior.startupMs, () => this.started(p, plan));
    return { exitCode: 0, stdout: `${JSON.stringify({ UUID: uuid, PID: pid })}\n`, stderr: '' };
  }

  /**
   * `--kill <signal> <uuid>`: resolves after the process died (exit 0), or after
   * `killWaitMs` if it is still alive (exit 1). A missing lock or a dead holder is success.
   */
  async kill(signal: number, uuid: string): Promise<Output> {
    if (!UUID.test(uuid)) return { exitCode: 1, stdout: '', stderr: `invalid container UUID ${JSON.stringify(uuid)}\n` };
    const p = this.procs.get(uuid);
    if (p === undefined || p.phase === 'exited') return { exitCode: 0, stdout: '', stderr: '' };
    if (signal === 9 && !p.hung) {
      this.exit(p, true);
    } else if ((signal === 2 || signal === 3 || signal === 15) && !p.hung && !p.dying) {
      p.dying = true;
      p.timer?.cancel();
      p.timer = this.clock.setTimer(this.behavior.killDelayMs, () => {
        this.world.containerCancelled(uuid, `crunch-run received signal ${signal}`);
        this.exit(p, true);
      });
    }
    const deadline = this.clock.now() + this.behavior.killWaitMs;
    const wait = Math.min(this.behavior.killDelayMs, this.behavior.killWaitMs);
    // The phase changes under timers while we sleep, hence the re-reads through alive().
    if (alive(p) && !p.hung && p.dying) await this.clock.sleep(wait);
    if (alive(p)) await this.clock.sleep(Math.max(0, deadline - this.clock.now()));
    if (!alive(p) || this.procs.get(uuid) !== p) return { exitCode: 0, stdout: '', stderr: '' };
    return {
      exitCode: 1,
      stdout: '',
      stderr: `sent signal ${signal} to pid ${p.pid} but process is still alive\n`,
    };
  }

  /** The cloud sent a spot interruption notice; crunch-run's spot check reports it. */
  spotNotice(actionAtMs: number): void {
    for (const p of this.procs.values()) {
      if (p.phase === 'running' && p.spotCheck) this.world.preemptionNotice?.(p.uuid, actionAtMs);
    }
  }

  /** The VM went away: every process and lock vanishes, with no call to the world. */
  halt(): void {
    this.halted = true;
    for (const p of this.procs.values()) p.timer?.cancel();
    this.procs.clear();
    this.listed = null;
    this.setLive(0);
  }

  /** Whether a crunch-run process of `uuid` is alive here (exited stale holders are not). */
  isAlive(uuid: string): boolean {
    const p = this.procs.get(uuid);
    return p !== undefined && p.phase !== 'exited';
  }

  liveProcesses(): number {
    return this.live;
  }

  private started(p: Proc, plan: ContainerPlan): void {
    p.timer = null;
    if ('refused' in plan || !this.world.containerRunning(p.uuid)) {
      this.exit(p, false);
      return;
    }
    p.phase = 'running';
    this.listed = null;
    if (plan.outcome === 'hang') return;
    const exitCode = plan.outcome === 'complete' ? 0 : (plan.exitCode ?? 1);
    p.timer = this.clock.setTimer(plan.runtimeMs, () => {
      p.timer = null;
      this.world.containerFinished(p.uuid, exitCode);
      this.exit(p, exitCode !== 0);
    });
  }

  private exit(p: Proc, abnormal: boolean): void {
    if (this.halted || p.phase === 'exited') return;
    p.timer?.cancel();
    p.timer = null;
    p.phase = 'exited';
    this.listed = null;
    this.setLive(this.live - 1);
    const keepLock = abnormal && this.behavior.staleLockRate > 0 && this.rng.next() < this.behavior.staleLockRate;
    if (!keepLock) {
      this.procs.delete(p.uuid);
    } else if (Number.isFinite(this.behavior.staleLockMs)) {
      p.timer = this.clock.setTimer(this.behavior.staleLockMs, () => {
        if (this.procs.get(p.uuid) === p) {
          this.procs.delete(p.uuid);
          this.listed = null;
        }
      });
    }
  }

  private setLive(n: number): void {
    if (n === this.live) return;
    this.live = n;
    this.hooks.busyChanged(n);
  }
}

function alive(p: Proc): boolean {
  return p.phase !== 'exited';
}

/** Parse and check ConfigData from `--stdin-config`; returns an error text or the config. */
export function parseConfigData(stdin: Buffer): CrunchRunConfig | string {
  let v: unknown;
  try {
    v = JSON.parse(stdin.toString('utf8'));
  } catch (e) {
    return `decoding config from stdin: ${(e as Error).message}`;
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return 'decoding config from stdin: not a JSON object';
  const env = (v as { Env?: unknown }).Env;
  if (env === null || typeof env !== 'object' || Array.isArray(env)) return 'decoding config from stdin: Env is not an object';
  for (const k of ['ARVADOS_API_HOST', 'ARVADOS_API_TOKEN']) {
    const val = (env as Record<string, unknown>)[k];
    if (typeof val !== 'string' || val === '') return `config from stdin: Env.${k} is missing`;
  }
  return v as CrunchRunConfig;
}

function checkPrices(stdin: Buffer): string | null {
  let v: unknown;
  try {
    v = JSON.parse(stdin.toString('utf8'));
  } catch (e) {
    return (e as Error).message;
  }
  if (!Array.isArray(v)) return 'not a JSON array';
  for (const p of v) {
    if (p === null || typeof p !== 'object' || typeof (p as { Price?: unknown }).Price !== 'number') {
      return 'expected [{"StartTime": ..., "Price": number}, ...]';
    }
  }
  return null;
}
