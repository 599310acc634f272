import type { Clock, Timer } from '../../core/ports/clock.js';
import { TimeoutError, TransientError } from '../../core/ports/errors.js';
import type { ExecOptions, ExecResult, Executor, ExecutorFactory } from '../../core/ports/executor.js';
import type { ExecutorTarget } from '../../core/ports/instance-set.js';
import { nullLogger, type Logger } from '../../core/ports/logger.js';
import { SshExecutor, type SshExecutorOptions } from '../../prod/ssh/ssh-executor.js';
import type { CommandHandler } from '../vm/command-handler.js';
import { generateEd25519KeyPair, type GeneratedKeyPair } from './host-keys.js';
import { startVmSshServer, type VmSshServer } from './vm-ssh-server.js';

/** The SshExecutor's defaults (sessions per connection, command timeout). */
const DEFAULT_MAX_SESSIONS = 10;
const DEFAULT_COMMAND_TIMEOUT_MS = 5 * 60_000;

export interface SshTransportOptions {
  /** The simulator's clock (the event engine): executor timeouts and backoff run on it. */
  readonly clock: Clock;
  /**
   * Keeps a virtual clock at the current instant until the returned function is called
   * (EventEngine.hold). Held while bytes are on the loopback wire: from the start of a
   * command until the VM's handler takes it, and from the handler's answer until the
   * command completes; also around server starts and stops. The VM's own handling (which
   * takes virtual time: command latency, crunch-run's model) runs unheld.
   */
  readonly hold?: () => () => void;
  /** One host key per VM (default, as real VMs) or one shared by all (cheaper). */
  readonly hostKeys?: 'per-vm' | 'shared';
  /** Passed to every SshExecutor (timeouts, backoff, session limit). */
  readonly executor?: Partial<Omit<SshExecutorOptions, 'signers' | 'clock'>>;
  readonly logger?: Logger;
}

/**
 * The simulator's `ssh` transport: one in-process SSH server per simulated VM on loopback,
 * reached through the production SshExecutor, unchanged. The simulated cloud starts a
 * server when a VM boots (`startVm`, reporting `server.address` as the instance's address)
 * and stops it when the VM goes away (`stopVm`); the pool gets `executorFactory()`.
 */
export class SshTransport {
  /** The dispatcher's key pair: its public half is the only key the VMs accept. */
  readonly dispatchKey: GeneratedKeyPair;
  private readonly servers = new Map<string, VmSshServer>();
  private readonly sharedHostKey: GeneratedKeyPair | null;
  private readonly hold: () => () => void;
  private readonly leases: WireLeases;
  private readonly log: Logger;

  constructor(private readonly opts: SshTransportOptions) {
    this.dispatchKey = generateEd25519KeyPair('vmdispatch-sim');
    this.sharedHostKey = opts.hostKeys === 'shared' ? generateEd25519KeyPair('sim-vm') : null;
    this.hold = opts.hold ?? (() => () => {});
    this.leases = new WireLeases(this.hold);
    this.log = opts.logger ?? nullLogger;
  }

  /**
   * Start the SSH server of VM `id`, answering with `handler`. Rejects when `id` already has
   * one, or the server cannot listen.
   */
  async startVm(id: string, handler: CommandHandler): Promise<VmSshServer> {
    if (this.servers.has(id)) throw new Error(`starting the SSH server of ${id}: it already has one`);
    const hostKey = this.sharedHostKey ?? generateEd25519KeyPair(`sim-vm-${id}`);
    const release = this.hold();
    let address = '';
    const leases = this.leases;
    // While the VM works on a command, its client's hold is lifted: the VM's latency and
    // crunch-run model run on virtual time, which must be free to advance.
    const unheld: CommandHandler = {
      async run(command, stdin) {
        const lease = leases.suspendOne(address);
        try {
          return await handler.run(command, stdin);
        } finally {
          if (lease !== null) leases.resume(lease);
        }
      },
    };
    try {
      const server = await startVmSshServer({
        hostKey: hostKey.parsed,
        authorizedKeys: [this.dispatchKey.parsed],
        handler: unheld,
        logger: this.log,
      });
      address = server.address;
      this.servers.set(id, server);
      return server;
    } finally {
      release();
    }
  }

  server(id: string): VmSshServer | undefined {
    return this.servers.get(id);
  }

  /** Stop VM `id`'s server (dropping its connections); nothing when it has none. */
  async stopVm(id: string): Promise<void> {
    const server = this.servers.get(id);
    if (server === undefined) return;
    this.servers.delete(id);
    const release = this.hold();
    try {
      await server.close();
    } finally {
      release();
    }
  }

  /** Production executors, each command holding the clock while its bytes travel. */
  executorFactory(): ExecutorFactory {
    const sessions = this.opts.executor?.maxSessionsPerConnection ?? DEFAULT_MAX_SESSIONS;
    const timeoutMs = this.opts.executor?.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    return (target) =>
      new HeldExecutor(
        target,
        this.leases,
        { clock: this.opts.clock, sessions, timeoutMs },
        new SshExecutor(target, {
          // A held virtual clock cannot advance, so a backoff sleep inside a command would
          // never end: the pool's probe interval paces reconnections instead.
          backoff: { initialMs: 0, maxMs: 0 },
          ...this.opts.executor,
          signers: [this.dispatchKey.parsed],
          clock: this.opts.clock,
          logger: this.opts.executor?.logger ?? this.log,
        }),
      );
  }

  /** Stop every server. */
  async close(): Promise<void> {
    const all = [...this.servers.values()];
    this.servers.clear();
    await Promise.all(all.map((s) => s.close()));
  }
}

/** One command's hold on the clock; `release` is null while a VM handler has lifted it. */
interface Lease {
  release: (() => void) | null;
  /** A lift scheduled for the next event-loop turn (see suspendOne). */
  lift: NodeJS.Immediate | null;
  done: boolean;
}

/**
 * The clock holds of commands in flight, per VM address. A VM's handler lifts one hold of
 * its address while it works (`suspendOne`) and restores it when it answers (`resume`),
 * unless that command has finished meanwhile (it timed out on virtual time, or the
 * connection dropped). Holds are interchangeable between the commands of one VM: only
 * their number matters to the clock.
 */
class WireLeases {
  private readonly byAddress = new Map<string, Set<Lease>>();

  constructor(private readonly hold: () => () => void) {}

  open(address: string): Lease {
    const lease: Lease = { release: this.hold(), lift: null, done: false };
    let set = this.byAddress.get(address);
    if (set === undefined) this.byAddress.set(address, (set = new Set()));
    set.add(lease);
    return lease;
  }

  close(address: string, lease: Lease): void {
    lease.done = true;
    const set = this.byAddress.get(address);
    set?.delete(lease);
    if (set?.size === 0) this.byAddress.delete(address);
    this.cancelLift(lease);
    lease.release?.();
    lease.release = null;
  }

  /**
   * Lift one held lease of `address`; null when none (e.g. a client other than ours). The
   * lift waits one event-loop turn: a handler that answers at once (all promise jobs) keeps
   * the clock at this instant, as the direct transport would; only one that waits on
   * virtual time (command latency) lets the clock move.
   */
  suspendOne(address: string): Lease | null {
    for (const lease of this.byAddress.get(address) ?? []) {
      if (lease.release !== null && lease.lift === null) {
        lease.lift = setImmediate(() => {
          lease.lift = null;
          lease.release?.();
          lease.release = null;
        });
        return lease;
      }
    }
    return null;
  }

  resume(lease: Lease): void {
    if (this.cancelLift(lease)) return;
    if (!lease.done && lease.release === null) lease.release = this.hold();
  }

  private cancelLift(lease: Lease): boolean {
    if (lease.lift === null) return false;
    clearImmediate(lease.lift);
    lease.lift = null;
    return true;
  }
}

/**
 * An Executor whose commands keep a virtual clock from advancing while their bytes are on
 * the wire (see WireLeases). The address a command is filed under is the target's at the
 * start of the command.
 *
 * Session slots: SshConnection runs at most `sessions` channels at once and queues the
 * rest. A command queued there would hold the clock while it waits for a slot that only a
 * command working in virtual time can free: the run would never advance. So the slots are
 * taken here, before the hold: a waiting command holds nothing (it waits in virtual time,
 * as with the direct executor), its deadline runs from the call, and the slot passes to it
 * with a hold taken before the finishing command lets go of its own.
 */
class HeldExecutor implements Executor {
  private active = 0;
  private readonly waiting: Waiter[] = [];

  constructor(
    private target: ExecutorTarget,
    private readonly leases: WireLeases,
    private readonly slots: { readonly clock: Clock; readonly sessions: number; readonly timeoutMs: number },
    private readonly inner: Executor,
  ) {}

  async execute(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const clock = this.slots.clock;
    const calledAt = clock.now();
    const timeoutMs = opts.timeoutMs ?? this.slots.timeoutMs;
    const { address, lease } = this.active < this.slots.sessions ? this.take() : await this.waitForSlot(command, timeoutMs);
    try {
      const waited = clock.now() - calledAt;
      const rest = waited > 0 && Number.isFinite(timeoutMs) && timeoutMs > 0 ? { ...opts, timeoutMs: Math.max(1, timeoutMs - waited) } : opts;
      return await this.inner.execute(command, rest);
    } finally {
      this.active--;
      this.waiting.shift()?.grant();
      this.leases.close(address, lease);
    }
  }

  setTarget(target: ExecutorTarget): void {
    this.target = target;
    this.inner.setTarget(target);
  }

  close(): void {
    const waiters = this.waiting.splice(0);
    for (const w of waiters) w.fail(new TransientError('running a command: the executor was closed'));
    this.inner.close();
  }

  private take(): { address: string; lease: Lease } {
    this.active++;
    const address = this.target.address();
    return { address, lease: this.leases.open(address) };
  }

  private waitForSlot(command: string, timeoutMs: number): Promise<{ address: string; lease: Lease }> {
    return new Promise((resolve, reject) => {
      let timer: Timer | null = null;
      const waiter: Waiter = {
        grant: () => {
          timer?.cancel();
          resolve(this.take());
        },
        fail: (e) => {
          timer?.cancel();
          reject(e);
        },
      };
      if (Number.isFinite(timeoutMs) && timeoutMs > 0) {
        timer = this.slots.clock.setTimer(timeoutMs, () => {
          const i = this.waiting.indexOf(waiter);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(new TimeoutError(`running ${JSON.stringify(command.split('\n', 1)[0] ?? '')} on ${this.target.address()}: timed out after ${timeoutMs}ms`));
        });
      }
      this.waiting.push(waiter);
    });
  }
}

interface Waiter {
  grant(): void;
  fail(e: Error): void;
}
