import type { Clock } from '../../core/ports/clock.js';
import type { Logger } from '../../core/ports/logger.js';
import { nullLogger } from '../../core/ports/logger.js';
import type { Rng } from '../../core/ports/rng.js';
import type { InstanceType } from '../../core/domain/instance-type.js';
import type { CommandHandler, CommandOutcome, CommandSink } from './command-handler.js';
import { CrunchRunModel, DEFAULT_CRUNCH_RUN_BEHAVIOR, parseConfigData, type CrunchRunBehavior, type Output, type ProcessHooks } from './crunch-run-model.js';
import type { CrunchRunWorld } from './crunch-run-world.js';
import { expandWord, parseScript, ShellSyntaxError } from './shell-parser.js';
import { FsError, VmFilesystem, resolvePath } from './vm-filesystem.js';
import { result, takeStdin, VmShell, type MaybeAsync, type ShellContext, type ShellResult } from './vm-shell.js';

/**
 * The VM is not reachable (it died, was destroyed or interrupted, or a network partition
 * cuts it off). Transports map it to their own failure: the direct executor to
 * TransientError, the SSH server to a dropped or refused connection.
 */
export class VmUnreachableError extends Error {
  constructor(
    readonly instanceId: string,
    reason: string,
  ) {
    super(`reaching instance ${instanceId}: ${reason}`);
    this.name = 'VmUnreachableError';
  }
}

/** Knobs of one VM beyond what the cloud decides (all durations in ms). */
export interface VmBehavior {
  /** Virtual time every command takes before it runs. */
  readonly commandLatencyMs: number;
  /** Cluster's BootProbeCommand: exits 0 once booted (in addition to `true`). */
  readonly bootProbeCommand: string;
  /** `crunch-run` is not installed on the image (a deployed runner still works). */
  readonly crunchRunMissing: boolean;
  readonly crunchRun: CrunchRunBehavior;
}

export const DEFAULT_VM_BEHAVIOR: VmBehavior = {
  commandLatencyMs: 5,
  bootProbeCommand: 'true',
  crunchRunMissing: false,
  crunchRun: DEFAULT_CRUNCH_RUN_BEHAVIOR,
};

/** Accounting hooks for the cloud's ledger. */
export interface VmHooks extends ProcessHooks {
  /** The first successful `crunch-run --list` of a booted, healthy VM: the dispatcher can use it now. */
  ready(): void;
}

/** What the cloud decides about a VM it creates. */
export interface VmSpec {
  readonly instanceId: string;
  readonly type: InstanceType;
  readonly initCommand: string;
  readonly publicKey: string | null;
  /** The SSH login user (not root: commands that need root must use sudo). */
  readonly remoteUser: string;
  /** Boots fine, but crunch-run reports a broken node. */
  readonly broken: boolean;
  readonly rng: Rng;
  readonly hooks: VmHooks;
}

export interface SimulatedVmOptions extends VmSpec {
  readonly clock: Clock;
  readonly world: CrunchRunWorld;
  readonly behavior?: Partial<VmBehavior>;
  readonly logger?: Logger;
}

export type VmState = 'booting' | 'up' | 'halted';

const EMPTY = Buffer.alloc(0);
/** `RESOLVED.then(fn)` queues `fn` as a promise job, where resolving a fresh promise would. */
const RESOLVED = Promise.resolve();
const NO_ENV: ReadonlyMap<string, string> = new Map();
const CRUNCH_RUN_BINARY = Buffer.from('simulated crunch-run\n');

/** Hooks that ignore everything: for a VM outside any ledger (tests). */
export const NO_HOOKS: VmHooks = { ready() {}, busyChanged() {}, containerStarted() {} };

/**
 * A VM as the dispatcher sees it over SSH: a shell for the commands the dispatcher sends,
 * an in-memory filesystem, and crunch-run's CLI over a process model, on the virtual clock.
 * The cloud calls `boot()` when boot time has passed and `halt()` when the VM goes away.
 */
export class SimulatedVm implements CommandHandler {
  readonly instanceId: string;
  private readonly clock: Clock;
  private readonly behavior: VmBehavior;
  private readonly fs: VmFilesystem;
  private readonly shell: VmShell;
  private readonly crunchRun: CrunchRunModel;
  private readonly hooks: VmHooks;
  private readonly logger: Logger;
  private state: VmState = 'booting';
  private readyReported = false;
  private partitionedUntil = -Infinity;
  private stalledUntil = -Infinity;
  private readonly inflight = new Set<CommandSink>();
  /** The shell result of the last `--list` output (the model returns the same object while
   * nothing changes), so repeated probes share one Buffer. */
  private listOut: Output | null = null;
  private listResult: ShellResult | null = null;
  private readonly haltListeners: (() => void)[] = [];

  constructor(private readonly opts: SimulatedVmOptions) {
    this.instanceId = opts.instanceId;
    this.clock = opts.clock;
    this.behavior = {
      ...DEFAULT_VM_BEHAVIOR,
      ...opts.behavior,
      crunchRun: { ...DEFAULT_CRUNCH_RUN_BEHAVIOR, ...opts.behavior?.crunchRun },
    };
    this.hooks = opts.hooks;
    this.logger = opts.logger ?? nullLogger;
    this.fs = new VmFilesystem(opts.remoteUser);
    if (!this.behavior.crunchRunMissing) {
      this.fs.write('/usr/bin/crunch-run', CRUNCH_RUN_BINARY, 'root', 0o022);
      this.fs.chmod('/usr/bin/crunch-run', 0o755, 'root');
    }
    this.shell = new VmShell(this.fs, (argv, ctx) => this.program(argv, ctx));
    this.crunchRun = new CrunchRunModel(opts.clock, opts.rng.fork('crunch-run'), opts.world, opts.instanceId, this.behavior.crunchRun, this.fs, opts.hooks);
  }

  vmState(): VmState {
    return this.state;
  }

  /** Not halted and not partitioned: a connection would succeed (once booted, commands work). */
  /** Whether a crunch-run process of `uuid` is alive on this VM (for the double-start invariant). */
  hasLiveProcess(uuid: string): boolean {
    return this.state !== 'halted' && this.crunchRun.isAlive(uuid);
  }

  isReachable(): boolean {
    return this.state !== 'halted' && this.clock.now() >= this.partitionedUntil;
  }

  /** Boot finished: run the init command as root (writes the instance secret), mark broken if so. */
  async boot(): Promise<void> {
    if (this.state !== 'booting') return;
    await this.runInit(this.opts.initCommand);
    if (this.state !== 'booting') return;
    if (this.opts.broken) this.fs.write('/var/lock/crunch-run-broken', Buffer.alloc(0), 'root', 0o022);
    this.state = 'up';
  }

  /** The VM is gone: processes die without a word to the world, commands in flight fail. */
  halt(reason: string): void {
    if (this.state === 'halted') return;
    this.state = 'halted';
    this.crunchRun.halt();
    const err = new VmUnreachableError(this.instanceId, reason);
    for (const sink of this.inflight) sink.failed(err);
    this.inflight.clear();
    for (const fn of this.haltListeners) fn();
    this.haltListeners.length = 0;
  }

  /** Call `fn` once when the VM goes away (e.g. to close its SSH server). */
  onHalt(fn: () => void): void {
    if (this.state === 'halted') fn();
    else this.haltListeners.push(fn);
  }

  /** Unreachable until `untilMs` (ssh-partition fault); processes keep running. */
  partition(untilMs: number): void {
    this.partitionedUntil = Math.max(this.partitionedUntil, untilMs);
  }

  /** Commands started before `untilMs` get no answer until then (a stalled SSH session). */
  stall(untilMs: number): void {
    this.stalledUntil = Math.max(this.stalledUntil, untilMs);
  }

  /** The cloud scheduled a spot interruption at `actionAtMs`. */
  spotNotice(actionAtMs: number): void {
    if (this.state === 'up') this.crunchRun.spotNotice(actionAtMs);
  }

  liveProcesses(): number {
    return this.crunchRun.liveProcesses();
  }

  /**
   * Run one command as the login user. Resolves with its exit code and output; rejects with
   * VmUnreachableError when the VM is halted or partitioned, or halts meanwhile.
   */
  run(command: string, stdin: Buffer): Promise<CommandOutcome> {
    return new Promise<CommandOutcome>((done, failed) => this.start(command, stdin, { done, failed }));
  }

  /** `run` reporting to `sink` where run's promise would settle (see CommandHandler). */
  start(command: string, stdin: Buffer, sink: CommandSink): void {
    if (!this.isReachable()) {
      const why = this.state === 'halted' ? 'connection refused' : 'no route to host';
      sink.failed(new VmUnreachableError(this.instanceId, why));
      return;
    }
    this.inflight.add(sink);
    const done = (r: ShellResult) => {
      if (!this.inflight.delete(sink)) return;
      sink.done({ exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr === '' ? EMPTY : Buffer.from(r.stderr) });
    };
    const failed = (e: unknown) => {
      if (this.inflight.delete(sink)) sink.failed(e instanceof Error ? e : new Error(String(e)));
    };
    const go = () => {
      try {
        const r = this.executeNow(command, stdin);
        if (r instanceof Promise) r.then(done, failed);
        else done(r);
      } catch (e) {
        failed(e);
      }
    };
    // Waits are a timer, then a promise turn (what `await clock.sleep()` does, without its
    // promise) so that a command never runs ahead of other timers due at the same instant.
    const afterLatency = () => {
      const stall = this.stalledUntil - this.clock.now();
      if (stall > 0) this.clock.setTimer(stall, () => void RESOLVED.then(go));
      else go();
    };
    if (this.behavior.commandLatencyMs > 0) this.clock.setTimer(this.behavior.commandLatencyMs, () => void RESOLVED.then(afterLatency));
    else afterLatency();
  }

  /** The command once latency and stalls are over; a promise only when it waits (`--kill`). */
  private executeNow(command: string, stdin: Buffer): MaybeAsync<ShellResult> {
    if (this.state === 'halted') return result(255, undefined, 'halted\n');
    if (this.state === 'booting') return result(1, undefined, 'system is booting up\n');
    if (command === this.behavior.bootProbeCommand) return result(0);
    const list = listCall(command);
    if (list !== null) {
      const user = list.sudo ? 'root' : this.opts.remoteUser;
      if (user === 'root' && this.fs.isExecutable('/usr/bin/crunch-run', user)) return this.listNow(list.prices, stdin);
    }
    return this.shell.runNow(command, this.opts.remoteUser, stdin);
  }

  /**
   * `[sudo ]crunch-run --list[ --stdin-prices]` run by root, without the shell: what the
   * shell, `sudo` and crunchRunCli would produce for it (simulated-vm.test.ts compares the
   * two), for the command every probe sends.
   */
  private listNow(prices: boolean, stdin: Buffer): ShellResult {
    let out: Output;
    try {
      out = this.listed(prices, prices ? stdin : EMPTY);
    } catch (e) {
      if (e instanceof FsError) return result(1, EMPTY, `crunch-run: ${e.message}\n`);
      throw e;
    }
    if (out !== this.listOut || this.listResult === null) {
      this.listOut = out;
      this.listResult = fromOutput(out);
    }
    return this.listResult;
  }

  /** crunch-run's `--list`, reporting the VM ready on its first success. */
  private listed(prices: boolean, stdin: Buffer): Output {
    const out = this.crunchRun.list(prices, stdin);
    if (out.exitCode === 0 && !this.readyReported && !this.opts.broken) {
      this.readyReported = true;
      this.hooks.ready();
    }
    return out;
  }

  private async runInit(script: string): Promise<void> {
    let lines: string[];
    try {
      parseScript(script);
      lines = [script];
    } catch (e) {
      if (!(e instanceof ShellSyntaxError)) throw e;
      // Unsupported syntax in the operator's InstanceInitCommand must not stop the
      // instance secret line from running: run what parses, line by line.
      lines = script.split('\n');
    }
    for (const line of lines) {
      const r = await this.shell.run(line, 'root', EMPTY);
      if (r.exitCode !== 0) this.logger.warn('init command failed', { instanceId: this.instanceId, exitCode: r.exitCode, stderr: r.stderr });
    }
  }

  private program(argv: readonly string[], ctx: ShellContext): MaybeAsync<ShellResult> | null {
    const name = argv[0] ?? '';
    let isRunner: boolean;
    if (name.includes('/')) {
      const path = resolvePath(name, ctx.user === 'root' ? '/root' : `/home/${ctx.user}`);
      if (!this.fs.has(path)) return result(127, undefined, `sh: 1: ${name}: not found\n`);
      if (!this.fs.isExecutable(path, ctx.user)) return result(126, undefined, `sh: 1: ${name}: Permission denied\n`);
      isRunner = basename(path).startsWith('crunch-run');
      if (!isRunner) return result(126, undefined, `sh: 1: ${name}: cannot execute binary file\n`);
    } else {
      isRunner = name === 'crunch-run' && this.fs.isExecutable('/usr/bin/crunch-run', ctx.user);
    }
    if (!isRunner) return null;
    const out = this.crunchRunCli(argv.slice(1), ctx);
    return out instanceof Promise ? out.then(fromOutput) : fromOutput(out);
  }

  private crunchRunCli(args: readonly string[], ctx: ShellContext): MaybeAsync<Output> {
    const parsed = parseCrunchRunFlags(args);
    if (typeof parsed === 'string') return { exitCode: 2, stdout: '', stderr: `${parsed}\n` };
    const { flags, positional } = parsed;
    if (ctx.user !== 'root') {
      return { exitCode: 1, stdout: '', stderr: 'open /var/lock/crunch-run-all.lock: permission denied\n' };
    }
    if (flags.has('list')) return this.listed(flags.has('stdin-prices'), flags.has('stdin-prices') ? takeStdin(ctx) : EMPTY);
    const uuid = positional[0];
    if (flags.has('kill')) {
      const sig = Number(flags.get('kill'));
      if (!Number.isInteger(sig) || sig < 0 || sig > 64) return { exitCode: 2, stdout: '', stderr: `invalid value for -kill\n` };
      if (uuid === undefined) return { exitCode: 2, stdout: '', stderr: 'usage: crunch-run --kill SIGNUM container-uuid\n' };
      return this.crunchRun.kill(sig, uuid);
    }
    if (flags.has('detach')) {
      if (uuid === undefined || positional.length !== 1) {
        return { exitCode: 2, stdout: '', stderr: 'usage: crunch-run --detach [options] container-uuid\n' };
      }
      if (!flags.has('stdin-config')) {
        return { exitCode: 1, stdout: '', stderr: 'simulated crunch-run needs --stdin-config with --detach\n' };
      }
      const config = parseConfigData(takeStdin(ctx));
      if (typeof config === 'string') return { exitCode: 1, stdout: '', stderr: `${config}\n` };
      return this.crunchRun.detach(uuid, config);
    }
    return { exitCode: 2, stdout: '', stderr: 'simulated crunch-run supports only --list, --detach and --kill\n' };
  }
}

const BOOL_FLAGS = new Set(['list', 'detach', 'stdin-config', 'stdin-prices', 'no-detach', 'version', 'enable-memory-limit', 'check-containerd']);
const VALUE_FLAGS = new Set([
  'kill',
  'runtime-engine',
  'broken-node-hook',
  'config',
  'ca-certs',
  'crunchstat-interval',
  'cgroup-parent-subsystem',
  'container-enable-networking',
  'container-network-mode',
  'memprofile',
  'sleep',
  'cgroup-root',
  'cgroup-parent',
]);

/** Go `flag` package rules: one or two dashes, `-name=value` or `-name value`, stop at the first non-flag. */
export function parseCrunchRunFlags(args: readonly string[]): { flags: Map<string, string>; positional: string[] } | string {
  const flags = new Map<string, string>();
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    const body = a.slice(a.startsWith('--') ? 2 : 1);
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    if (BOOL_FLAGS.has(name)) {
      const v = eq < 0 ? 'true' : body.slice(eq + 1);
      if (v !== 'true' && v !== 'false') return `invalid boolean value ${JSON.stringify(v)} for -${name}`;
      if (v === 'true') flags.set(name, v);
    } else if (VALUE_FLAGS.has(name)) {
      if (eq >= 0) flags.set(name, body.slice(eq + 1));
      else if (i + 1 < args.length) flags.set(name, args[++i]!);
      else return `flag needs an argument: -${name}`;
    } else {
      return `flag provided but not defined: -${name}`;
    }
  }
  return { flags, positional: args.slice(i) };
}

/** A command that is exactly `[sudo ]crunch-run --list[ --stdin-prices]`, or null. */
interface ListCall {
  readonly sudo: boolean;
  readonly prices: boolean;
}

// Keyed by the command string, which probes send unchanged; capped like the parse cache.
const listCalls = new Map<string, ListCall | null>();

function listCall(command: string): ListCall | null {
  let c = listCalls.get(command);
  if (c === undefined) {
    c = classifyListCall(command);
    if (listCalls.size >= 4096) listCalls.clear();
    listCalls.set(command, c);
  }
  return c;
}

/** One plain command, words without variables, no assignment or redirection. */
function classifyListCall(command: string): ListCall | null {
  let script;
  try {
    script = parseScript(command);
  } catch {
    return null;
  }
  const cmd = script.length === 1 && script[0]!.length === 1 ? script[0]![0]! : undefined;
  if (cmd === undefined || cmd.assignments.length > 0 || cmd.redirects.length > 0) return null;
  if (cmd.words.some((w) => w.some((p) => p.kind !== 'text'))) return null;
  const words = cmd.words.map((w) => expandWord(w, NO_ENV));
  const sudo = words[0] === 'sudo';
  const rest = sudo ? words.slice(1) : words;
  if (rest[0] !== 'crunch-run') return null;
  if (rest[1] !== '--list') return null;
  if (rest.length === 2) return { sudo, prices: false };
  if (rest.length === 3 && rest[2] === '--stdin-prices') return { sudo, prices: true };
  return null;
}

function fromOutput(o: Output): ShellResult {
  return result(o.exitCode, o.stdout, o.stderr);
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
