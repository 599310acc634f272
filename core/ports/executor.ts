import type { ExecutorTarget } from './instance-set.js';

export interface ExecResult {
  readonly stdout: Buffer;
  readonly stderr: Buffer;
}

export interface ExecOptions {
  /** Sent on the command's standard input, which is then closed. */
  readonly stdin?: Buffer;
  /** Give up (TimeoutError) after this long; undefined = the executor's default. */
  readonly timeoutMs?: number;
}

/**
 * Runs shell commands on one instance (production: SSH; simulation: the simulated VM's
 * command interpreter, in process or over SSH).
 *
 * Contract:
 * - `execute` resolves with the output when the command exits 0. It rejects with
 *   CommandError (exit code, stdout, stderr) when the command exits non-zero; NoAddressError
 *   when the target has no address yet; HostKeyError when the host key is refused;
 *   TimeoutError when the command outlives its timeout; TransientError for connection
 *   failures. Commands may run concurrently.
 * - The command string goes to a remote shell as is: callers quote every value they
 *   interpolate (core/domain/shell.ts).
 * - `close` drops connections; in-flight commands reject with TransientError.
 */
export interface Executor {
  execute(command: string, opts?: ExecOptions): Promise<ExecResult>;
  /** Point at a (possibly changed) target, e.g. once the instance has an address. */
  setTarget(target: ExecutorTarget): void;
  close(): void;
}

/** Makes one executor per instance; the pool calls it when it first sees an instance. */
export type ExecutorFactory = (target: ExecutorTarget) => Executor;
