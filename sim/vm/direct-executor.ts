import type { Clock } from '../../core/ports/clock.js';
import type { ExecOptions, ExecResult, Executor, ExecutorFactory } from '../../core/ports/executor.js';
import type { ExecutorTarget } from '../../core/ports/instance-set.js';
import { CommandError, NoAddressError, TimeoutError, TransientError } from '../../core/ports/errors.js';
import type { Timer } from '../../core/ports/clock.js';
import type { CommandHandler, CommandOutcome, CommandSink } from './command-handler.js';
import { VmUnreachableError } from './simulated-vm.js';

/** Finds the VM behind a target (the simulated cloud does it by address); undefined = no such host. */
export type VmLocator = (target: ExecutorTarget) => CommandHandler | undefined;

export interface DirectExecutorOptions {
  readonly clock: Clock;
  readonly locate: VmLocator;
  /** Timeout for commands that give none; undefined = wait forever, as the reference does. */
  readonly defaultTimeoutMs?: number;
  /**
   * Commands running at once; more wait for a slot, the wait counting towards their
   * timeout. Default 10, as the SSH executor's sessions per connection (OpenSSH's
   * MaxSessions), so that both transports start a burst of commands at the same times.
   */
  readonly maxSessions?: number;
}

const EMPTY = Buffer.alloc(0);
/** `RESOLVED.then(fn)` queues `fn` as a promise job, where `then` on a settled promise would. */
const RESOLVED = Promise.resolve();
/** The SSH executor's default sessions per connection. */
const DEFAULT_MAX_SESSIONS = 10;

/**
 * The `direct` transport: the Executor port calling a simulated VM's command interpreter
 * in process, with the error mapping of the SSH executor:
 * - target without an address: NoAddressError;
 * - no VM at that address, a halted VM, a partitioned VM: TransientError (a connection
 *   failure);
 * - exit status non-zero: CommandError with the output;
 * - no answer within the timeout (virtual clock): TimeoutError; the command goes on;
 * - `close()`: commands in flight or waiting for a slot reject with TransientError.
 * Like one SSH connection, at most `maxSessions` commands run at once.
 *
 * Host keys: there is no SSH handshake, but the executor does what the SSH executor does
 * on its first connection: it hands the target a host key (a constant per address) and
 * lets it verify it over the VM before any command runs (the pool's check reads the
 * instance secret). So both transports send the VM the same commands at the same virtual
 * times, and a VM that cannot prove its secret is refused here too (HostKeyError).
 */
export class DirectExecutor implements Executor {
  private target: ExecutorTarget | null = null;
  private readonly inflight = new Set<PendingCommand>();
  /** The address whose host key was accepted; '' = none yet. */
  private verified = '';
  /** Bumped by close(): a command still verifying the host key when it happens fails too. */
  private epoch = 0;
  /** The host-key check under way (one for all the commands that wait on it, as SSH's set-up). */
  private verifying: { address: string; epoch: number; done: Promise<void> } | null = null;
  /** Session slots taken, and the commands waiting for one (FIFO). */
  private active = 0;
  private readonly waiting: PendingCommand[] = [];

  /**
   * `target`: the instance to reach, as the pool hands it to its ExecutorFactory. Without
   * one, every command fails with NoAddressError until `setTarget`.
   */
  constructor(
    private readonly opts: DirectExecutorOptions,
    target?: ExecutorTarget,
  ) {
    this.target = target ?? null;
  }

  setTarget(target: ExecutorTarget): void {
    this.target = target;
  }

  close(): void {
    this.epoch++;
    this.verifying = null;
    // A new connection: fresh session slots (commands of the old one give theirs back to no one).
    this.active = 0;
    this.waiting.length = 0;
    if (this.inflight.size === 0) return;
    const err = new TransientError('running command: connection closed');
    for (const cmd of this.inflight) cmd.reject(err);
    this.inflight.clear();
  }

  execute(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const address = this.target?.address() ?? '';
    if (this.target === null || address === '') {
      return Promise.reject(new NoAddressError(`running command ${describeCommand(command)}: instance has no address yet`));
    }
    const vm = this.opts.locate(this.target);
    if (vm === undefined) {
      return Promise.reject(new TransientError(`running command ${describeCommand(command)} on ${address}: connection refused`));
    }
    if (this.verified !== address) {
      const epoch = this.epoch;
      return this.verify(vm, address).then(() => {
        if (this.epoch !== epoch) throw new TransientError(`running command ${describeCommand(command)} on ${address}: connection closed`);
        return this.run(vm, address, command, opts);
      });
    }
    return this.run(vm, address, command, opts);
  }

  /** Commands that find no trusted key wait on one check, as on one SSH connection set-up. */
  private verify(vm: CommandHandler, address: string): Promise<void> {
    const current = this.verifying;
    if (current !== null && current.address === address && current.epoch === this.epoch) return current.done;
    const target = this.target!;
    const epoch = this.epoch;
    const run = (cmd: string) => this.run(vm, address, cmd, {});
    const done = target.verifyHostKey(Buffer.from(`simulated-host-key ${address}`), run).then(
      () => {
        if (this.epoch === epoch) this.verified = address;
      },
      (e: unknown) => {
        throw e instanceof CommandError ? new TransientError(`verifying the host key of ${address}: ${e.message}`, { cause: e }) : e;
      },
    );
    const entry = { address, epoch, done };
    this.verifying = entry;
    const clear = () => {
      if (this.verifying === entry) this.verifying = null;
    };
    done.then(clear, clear);
    return done;
  }

  private run(vm: CommandHandler, address: string, command: string, opts: ExecOptions): Promise<ExecResult> {
    const timeoutMs = opts.timeoutMs ?? this.opts.defaultTimeoutMs;
    return new Promise<ExecResult>((resolve, reject) => {
      const cmd = new PendingCommand(this, vm, address, command, opts.stdin ?? EMPTY, this.epoch, resolve, reject);
      this.inflight.add(cmd);
      // The deadline covers the wait for a slot, as the SSH executor's does.
      if (timeoutMs !== undefined) cmd.timer = this.opts.clock.setTimer(timeoutMs, () => this.timedOut(cmd, timeoutMs));
      if (this.active < (this.opts.maxSessions ?? DEFAULT_MAX_SESSIONS)) this.startCommand(cmd);
      else this.waiting.push(cmd);
    });
  }

  private startCommand(cmd: PendingCommand): void {
    this.active++;
    cmd.slot = true;
    if (cmd.vm.start !== undefined) cmd.vm.start(cmd.command, cmd.stdin, cmd);
    else {
      cmd.vm.run(cmd.command, cmd.stdin).then(
        (out) => this.completed(cmd, out),
        (e: unknown) => this.crashed(cmd, e),
      );
    }
  }

  private timedOut(cmd: PendingCommand, timeoutMs: number): void {
    if (!this.inflight.delete(cmd)) return;
    const i = this.waiting.indexOf(cmd);
    if (i >= 0) this.waiting.splice(i, 1);
    this.freeSlot(cmd);
    cmd.reject(new TimeoutError(`running command ${describeCommand(cmd.command)} on ${cmd.address}: no answer within ${timeoutMs} ms`));
  }

  private freeSlot(cmd: PendingCommand): void {
    if (!cmd.slot) return;
    cmd.slot = false;
    if (this.epoch !== cmd.epoch) return;
    this.active--;
    const next = this.waiting.shift();
    if (next !== undefined) this.startCommand(next);
  }

  private finish(cmd: PendingCommand): void {
    cmd.timer?.cancel();
    this.inflight.delete(cmd);
    this.freeSlot(cmd);
  }

  /** @internal The VM answered (one promise job after, as `then` on its promise would run). */
  completed(cmd: PendingCommand, out: CommandOutcome): void {
    if (!this.inflight.has(cmd)) return;
    this.finish(cmd);
    if (out.exitCode === 0) {
      cmd.resolve({ stdout: out.stdout, stderr: out.stderr });
      return;
    }
    const why = firstLine(out.stderr) || 'no error output';
    cmd.reject(
      new CommandError(
        `running command ${describeCommand(cmd.command)} on ${cmd.address}: exit status ${out.exitCode}: ${why}`,
        out.exitCode,
        out.stdout,
        out.stderr,
      ),
    );
  }

  /** @internal The VM could not run it (unreachable, halted meanwhile, or a bug). */
  crashed(cmd: PendingCommand, e: unknown): void {
    if (!this.inflight.has(cmd)) return;
    this.finish(cmd);
    const cause = e instanceof VmUnreachableError ? e.message : `unexpected failure: ${String(e)}`;
    cmd.reject(new TransientError(`running command ${describeCommand(cmd.command)} on ${cmd.address}: ${cause}`, { cause: e }));
  }
}

/**
 * One command of a DirectExecutor: its state in one object (the probe path runs millions),
 * and the VM's sink. The VM reports where its promise would settle; the executor's handlers
 * run one promise job later, exactly when `then` handlers on that promise would, so every
 * continuation runs in the same order as through `run`.
 */
class PendingCommand implements CommandSink {
  timer: Timer | null = null;
  /** Holds a session slot. */
  slot = false;

  constructor(
    private readonly executor: DirectExecutor,
    readonly vm: CommandHandler,
    readonly address: string,
    readonly command: string,
    readonly stdin: Buffer,
    /** The executor's epoch when the command was issued. */
    readonly epoch: number,
    readonly resolve: (r: ExecResult) => void,
    readonly reject: (e: Error) => void,
  ) {}

  done(outcome: CommandOutcome): void {
    void RESOLVED.then(() => this.executor.completed(this, outcome));
  }

  failed(error: Error): void {
    void RESOLVED.then(() => this.executor.crashed(this, error));
  }
}

/**
 * The ExecutorFactory of the `direct` transport: like production's sshExecutorFactory, each
 * executor starts with the target the pool hands over, so a new instance's first probe
 * reaches its VM (rather than failing until the next listing calls setTarget).
 */
export function directExecutorFactory(opts: DirectExecutorOptions): ExecutorFactory {
  return (target) => new DirectExecutor(opts, target);
}

/** The program name and mode only: commands are logged, and arguments may be long. */
function describeCommand(command: string): string {
  const words = command.split(' ').slice(0, 3).join(' ');
  return JSON.stringify(words.length > 60 ? words.slice(0, 60) + '...' : words);
}

function firstLine(b: Buffer): string {
  return b.toString('utf8').split('\n', 1)[0]!.trim();
}
