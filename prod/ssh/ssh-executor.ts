import type { ParsedKey } from 'ssh2';
import type { Clock } from '../../core/ports/clock.js';
import {
  CommandError,
  HostKeyError,
  NoAddressError,
  TimeoutError,
  TransientError,
  describeError,
} from '../../core/ports/errors.js';
import type { ExecOptions, ExecResult, Executor, ExecutorFactory } from '../../core/ports/executor.js';
import type { ExecutorTarget } from '../../core/ports/instance-set.js';
import { nullLogger, type Logger } from '../../core/ports/logger.js';
import { keyFingerprint, keyTypeOf } from './keys.js';
import { ChannelOpenError, SshConnection } from './ssh-connection.js';
import { parseTargetAddress, parseSshPort, type HostPort } from './target-address.js';

export interface BackoffOptions {
  /** Wait before the second consecutive connection attempt; doubles per failure. */
  readonly initialMs: number;
  readonly maxMs: number;
}

export interface SshExecutorOptions {
  /** The dispatcher's private keys (prod/ssh/keys.ts parses Containers.DispatchPrivateKey). */
  readonly signers: readonly ParsedKey[];
  readonly clock: Clock;
  /** Port used when the target address has none: CloudVMs.SSHPort. Default 22. */
  readonly defaultPort?: number | string;
  /** TCP connect + handshake + authentication. Default 60 s, as the reference. */
  readonly dialTimeoutMs?: number;
  /**
   * Per command (connection set-up and host-key check included) unless ExecOptions says
   * otherwise. Default 5 min; 0 or Infinity: no timeout (the reference's behaviour).
   */
  readonly commandTimeoutMs?: number;
  /**
   * Between failed connection attempts. Default 1 s doubling to 30 s. `{initialMs: 0}`
   * disables it (the simulator's ssh transport: a held virtual clock cannot sleep).
   */
  readonly backoff?: BackoffOptions;
  /** Channels open at once per connection (OpenSSH's MaxSessions defaults to 10). */
  readonly maxSessionsPerConnection?: number;
  readonly logger?: Logger;
}

const DEFAULTS = {
  dialTimeoutMs: 60_000,
  commandTimeoutMs: 5 * 60_000,
  backoff: { initialMs: 1_000, maxMs: 30_000 },
  maxSessionsPerConnection: 10,
} as const;

/**
 * The production Executor: one multiplexed SSH connection per instance, one channel per
 * command.
 *
 * Trust: a new connection is used for worker commands only once its host key is trusted.
 * The key the executor accepted last is remembered; a connection presenting any other key
 * (the first connection, or a changed key) is handed to `target.verifyHostKey(key, run)`,
 * whose `run` executes over that connection and nothing else does until it resolves. A
 * refusal closes the connection, is logged as "host key refused" with the key's
 * fingerprint, and rejects the commands waiting for it with HostKeyError.
 *
 * Failures: a connection that cannot be set up rejects its waiting commands with
 * TransientError (NoAddressError while the target has no address) and the next attempt
 * waits an exponential backoff. A command that outlives its timeout rejects with
 * TimeoutError and its channel is closed; if the connection received nothing at all during
 * that command, the link is taken for dead and closed so the next command reconnects.
 * A command is never re-sent once its channel may have opened (a repeated
 * `crunch-run --detach` could start a container twice).
 */
export class SshExecutor implements Executor {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly dialTimeoutMs: number;
  private readonly commandTimeoutMs: number;
  private readonly backoff: BackoffOptions;
  private readonly maxSessions: number;
  private readonly defaultPort: number;
  private target: ExecutorTarget;
  private conn: SshConnection | null = null;
  private connecting: Promise<SshConnection> | null = null;
  private acceptedKey: Buffer | null = null;
  private failures = 0;
  /** Bumped by close(): a set-up started before it must not install its connection. */
  private generation = 0;

  constructor(
    target: ExecutorTarget,
    private readonly opts: SshExecutorOptions,
  ) {
    if (opts.signers.length === 0) throw new Error('creating the SSH executor: no private key to authenticate with');
    this.target = target;
    this.clock = opts.clock;
    this.log = opts.logger ?? nullLogger;
    this.dialTimeoutMs = opts.dialTimeoutMs ?? DEFAULTS.dialTimeoutMs;
    this.commandTimeoutMs = opts.commandTimeoutMs ?? DEFAULTS.commandTimeoutMs;
    this.backoff = opts.backoff ?? DEFAULTS.backoff;
    this.maxSessions = opts.maxSessionsPerConnection ?? DEFAULTS.maxSessionsPerConnection;
    this.defaultPort = parseSshPort(opts.defaultPort ?? 22);
  }

  /** The host key trusted last, or null before the first verified connection. */
  trustedHostKey(): Buffer | null {
    return this.acceptedKey;
  }

  async execute(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const timeoutMs = opts.timeoutMs ?? this.commandTimeoutMs;
    const deadline = this.deadline(timeoutMs, () => `running ${brief(command)} on ${this.describeTarget()}`);
    try {
      const outcome = await this.runOnTrustedConnection(command, opts.stdin, deadline.signal);
      if (outcome.exitCode === 0) return { stdout: outcome.stdout, stderr: outcome.stderr };
      const status = outcome.exitCode === null ? `killed by signal ${outcome.signal ?? '(none reported)'}` : `exit status ${outcome.exitCode}`;
      throw new CommandError(
        `running ${brief(command)} on ${this.describeTarget()}: ${status}`,
        outcome.exitCode ?? -1,
        outcome.stdout,
        outcome.stderr,
      );
    } finally {
      deadline.cancel();
    }
  }

  setTarget(target: ExecutorTarget): void {
    this.target = target;
    const conn = this.conn;
    if (conn === null) return;
    let wanted: HostPort | null = null;
    try {
      wanted = parseTargetAddress(target.address(), this.defaultPort);
    } catch {
      wanted = null;
    }
    // The instance moved (or lost its address): the old connection leads elsewhere.
    if (wanted === null || `${wanted.host}:${wanted.port}` !== conn.address) {
      this.conn = null;
      conn.close();
    }
  }

  close(): void {
    this.generation++;
    this.connecting = null;
    const conn = this.conn;
    this.conn = null;
    conn?.close();
  }

  private async runOnTrustedConnection(command: string, stdin: Buffer | undefined, signal: AbortSignal) {
    const generation = this.generation;
    for (let attempt = 0; ; attempt++) {
      if (generation !== this.generation) throw new TransientError(`running ${brief(command)}: the executor was closed`);
      const conn = await this.trustedConnection(signal);
      const before = conn.bytesReceived;
      try {
        return await conn.exec(command, stdin, signal);
      } catch (e) {
        // A connection that closed before the channel opened: the command never started, so
        // one retry on a new connection is safe (the reference does the same).
        if (e instanceof ChannelOpenError && !conn.isOpen && attempt === 0) continue;
        if (e instanceof TimeoutError && conn.bytesReceived === before && this.conn === conn) {
          this.log.warn('ssh connection silent for a whole command timeout; dropping it', {
            address: conn.address,
          });
          this.conn = null;
          conn.close();
        }
        throw e;
      }
    }
  }

  private trustedConnection(signal: AbortSignal): Promise<SshConnection> {
    const conn = this.conn;
    if (conn !== null && conn.isOpen) return Promise.resolve(conn);
    if (this.connecting === null) {
      const p = this.setUp();
      this.connecting = p;
      const clear = () => {
        if (this.connecting === p) this.connecting = null;
      };
      p.then(clear, clear);
    }
    return abortable(this.connecting, signal);
  }

  private async setUp(): Promise<SshConnection> {
    const generation = this.generation;
    const raw = this.target.address();
    if (raw === '') throw new NoAddressError(`connecting to ${this.describeTarget()}: the instance has no address yet`);
    const hp = parseTargetAddress(raw, this.defaultPort);
    const delay = this.failures > 0 ? Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** (this.failures - 1)) : 0;
    if (delay > 0) await this.clock.sleep(delay);
    let conn: SshConnection;
    try {
      conn = await SshConnection.dial({
        host: hp.host,
        port: hp.port,
        username: this.target.remoteUser(),
        signers: this.opts.signers,
        clock: this.clock,
        dialTimeoutMs: this.dialTimeoutMs,
        maxSessions: this.maxSessions,
      });
    } catch (e) {
      this.failures++;
      this.log.debug('ssh connection failed', { address: `${hp.host}:${hp.port}`, error: describeError(e) });
      throw e;
    }
    try {
      await this.trust(conn);
    } catch (e) {
      this.failures++;
      conn.close();
      throw e;
    }
    if (generation !== this.generation) {
      conn.close();
      throw new TransientError(`connecting to ${conn.address}: the executor was closed`);
    }
    if (this.target.address() !== raw) {
      // setTarget moved the instance while we were connecting to its old address.
      conn.close();
      throw new TransientError(`connecting to ${conn.address}: the instance's address changed meanwhile`);
    }
    this.failures = 0;
    this.conn = conn;
    conn.onClose(() => {
      if (this.conn === conn) this.conn = null;
    });
    return conn;
  }

  private async trust(conn: SshConnection): Promise<void> {
    const key = conn.hostKey;
    if (this.acceptedKey !== null && this.acceptedKey.equals(key)) return;
    const fields = { address: conn.address, keyType: keyTypeOf(key), fingerprint: keyFingerprint(key) };
    const run = async (cmd: string): Promise<ExecResult> => {
      const deadline = this.deadline(this.commandTimeoutMs, () => `running ${brief(cmd)} to verify the host key`);
      try {
        const o = await conn.exec(cmd, undefined, deadline.signal);
        if (o.exitCode !== 0) {
          const status = o.exitCode === null ? `killed by signal ${o.signal ?? '(none reported)'}` : `exit status ${o.exitCode}`;
          throw new CommandError(`running ${brief(cmd)} to verify the host key: ${status}`, o.exitCode ?? -1, o.stdout, o.stderr);
        }
        return { stdout: o.stdout, stderr: o.stderr };
      } finally {
        deadline.cancel();
      }
    };
    try {
      await this.target.verifyHostKey(key, run);
    } catch (e) {
      // Losing the link, or no answer in time, says nothing about the key: try again later.
      if (!conn.isOpen || causedBy(e, TimeoutError)) {
        throw new TransientError(`verifying the host key of ${conn.address}: ${describeError(e)}`, { cause: e });
      }
      this.log.warn('host key refused', { ...fields, error: describeError(e) });
      if (e instanceof HostKeyError) throw e;
      throw new HostKeyError(`verifying the host key of ${conn.address}: ${describeError(e)}`, { cause: e });
    }
    this.log.info(this.acceptedKey === null ? 'host key accepted' : 'changed host key verified and accepted', fields);
    this.acceptedKey = Buffer.from(key);
  }

  /**
   * A signal that aborts with TimeoutError("<doing>: timed out after Nms") after `ms`. A
   * non-finite or non-positive `ms` means no deadline (clocks differ on what such a timer
   * does).
   */
  private deadline(ms: number, doing: () => string): { signal: AbortSignal; cancel(): void } {
    const ac = new AbortController();
    if (!(Number.isFinite(ms) && ms > 0)) return { signal: ac.signal, cancel: () => {} };
    const timer = this.clock.setTimer(ms, () => ac.abort(new TimeoutError(`${doing()}: timed out after ${ms}ms`)));
    return { signal: ac.signal, cancel: () => timer.cancel() };
  }

  private describeTarget(): string {
    return this.target.address() || '(no address)';
  }
}

/** The ExecutorFactory the daemon hands to the pool: one SshExecutor per instance. */
export function sshExecutorFactory(opts: SshExecutorOptions): ExecutorFactory {
  return (target) => new SshExecutor(target, opts);
}

/** Whether `e` or an error in its `cause` chain is a `kind`. */
function causedBy(e: unknown, kind: abstract new (...args: never[]) => Error): boolean {
  let cur: unknown = e;
  for (let depth = 0; depth < 10 && cur instanceof Error; depth++) {
    if (cur instanceof kind) return true;
    cur = (cur as Error).cause;
  }
  return false;
}

function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e as Error);
      },
    );
  });
}

/** The command as quoted in error messages: its first line, cut short. */
function brief(command: string): string {
  const line = command.split('\n', 1)[0] ?? '';
  return JSON.stringify(line.length > 80 ? `${line.slice(0, 77)}...` : line);
}
