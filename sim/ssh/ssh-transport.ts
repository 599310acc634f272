import type { Clock } from '../../core/ports/clock.js';
import type { ExecOptions, ExecResult, Executor, ExecutorFactory } from '../../core/ports/executor.js';
import type { ExecutorTarget } from '../../core/ports/instance-set.js';
import { nullLogger, type Logger } from '../../core/ports/logger.js';
import { SshExecutor, type SshExecutorOptions } from '../../prod/ssh/ssh-executor.js';
import type { CommandHandler } from '../vm/command-handler.js';
import { generateEd25519KeyPair, type GeneratedKeyPair } from './host-keys.js';
import { startVmSshServer, type VmSshServer } from './vm-ssh-server.js';

export interface SshTransportOptions {
  /** The simulator's clock (the event engine): executor timeouts and backoff run on it. */
  readonly clock: Clock;
  /**
   * Keeps a virtual clock at the current instant until the returned function is called
   * (EventEngine.hold). Every command and every server start is bracketed by it, so that
   * real loopback I/O completes at the virtual instant it began.
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
  private readonly log: Logger;

  constructor(private readonly opts: SshTransportOptions) {
    this.dispatchKey = generateEd25519KeyPair('vmdispatch-sim');
    this.sharedHostKey = opts.hostKeys === 'shared' ? generateEd25519KeyPair('sim-vm') : null;
    this.hold = opts.hold ?? (() => () => {});
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
    try {
      const server = await startVmSshServer({
        hostKey: hostKey.parsed,
        authorizedKeys: [this.dispatchKey.parsed],
        handler,
        logger: this.log,
      });
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

  /** Production executors, each command bracketed by `hold`. */
  executorFactory(): ExecutorFactory {
    return (target) =>
      new HeldExecutor(
        new SshExecutor(target, {
          // A held virtual clock cannot advance, so a backoff sleep inside a command would
          // never end: the pool's probe interval paces reconnections instead.
          backoff: { initialMs: 0, maxMs: 0 },
          ...this.opts.executor,
          signers: [this.dispatchKey.parsed],
          clock: this.opts.clock,
          logger: this.opts.executor?.logger ?? this.log,
        }),
        this.hold,
      );
  }

  /** Stop every server. */
  async close(): Promise<void> {
    const all = [...this.servers.values()];
    this.servers.clear();
    await Promise.all(all.map((s) => s.close()));
  }
}

/**
 * An Executor whose commands keep a virtual clock from advancing until they finish. (A
 * consequence: under a held clock a command's virtual timeout cannot fire while its real
 * I/O is pending; simulated VMs answer promptly or drop the connection.)
 */
export class HeldExecutor implements Executor {
  constructor(
    private readonly inner: Executor,
    private readonly hold: () => () => void,
  ) {}

  async execute(command: string, opts?: ExecOptions): Promise<ExecResult> {
    const release = this.hold();
    try {
      return await this.inner.execute(command, opts);
    } finally {
      release();
    }
  }

  setTarget(target: ExecutorTarget): void {
    this.inner.setTarget(target);
  }

  close(): void {
    this.inner.close();
  }
}
