import { Socket } from 'node:net';
import ssh2, { type ClientChannel, type ParsedKey } from 'ssh2';
import type { Clock } from '../../core/ports/clock.js';
import { TransientError, describeError } from '../../core/ports/errors.js';

// ssh2 is CommonJS: Node's ESM loader gives its exports on the default import only.
const { Client } = ssh2;
type Client = InstanceType<typeof Client>;

export interface DialOptions {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly signers: readonly ParsedKey[];
  readonly clock: Clock;
  /** TCP connect + key exchange + authentication must finish within this. */
  readonly dialTimeoutMs: number;
  /** Channels open at once on this connection; further commands wait for a slot. */
  readonly maxSessions: number;
}

/**
 * The channel could not be opened (the connection was already closed, or the server
 * refused the channel), so the command certainly did not start: safe to retry elsewhere.
 */
export class ChannelOpenError extends TransientError {
  constructor(
    message: string,
    /** The server answered the open request with a refusal (rather than the link failing). */
    readonly refusedByServer = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** What one command produced. `exitCode` is null when the command died of `signal`. */
export interface ChannelOutcome {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stdout: Buffer;
  readonly stderr: Buffer;
}

/**
 * One authenticated SSH connection, multiplexing one channel per command. It knows
 * nothing of host-key trust: the executor decides whether to use it.
 */
export class SshConnection {
  private open = true;
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly closeListeners = new Set<() => void>();
  /** Bytes received so far: lets the executor tell a slow command from a dead link. */
  bytesReceived = 0;

  private constructor(
    private readonly client: Client,
    readonly hostKey: Buffer,
    readonly address: string,
    private maxSessions: number,
  ) {
    client.on('close', () => this.markClosed());
  }

  /**
   * Connect and authenticate. Resolves once the connection is ready for channels, with the
   * host key the server presented (not yet trusted). Rejects with TransientError when the
   * TCP connection, the handshake or authentication fails or outlasts `dialTimeoutMs`.
   */
  static dial(o: DialOptions): Promise<SshConnection> {
    const address = `${o.host}:${o.port}`;
    return new Promise((resolve, reject) => {
      const client = new Client();
      const sock = new Socket();
      let hostKey: Buffer | null = null;
      let settled = false;
      const fail = (why: string, cause?: unknown) => {
        if (settled) return;
        settled = true;
        timer.cancel();
        client.removeAllListeners('ready');
        sock.destroy();
        client.end();
        reject(new TransientError(`connecting to ${address}: ${why}`, { cause }));
      };
      const timer = o.clock.setTimer(o.dialTimeoutMs, () => fail(`timed out after ${o.dialTimeoutMs}ms`));
      const conn = (): SshConnection => new SshConnection(client, hostKey ?? Buffer.alloc(0), address, o.maxSessions);
      let connection: SshConnection | null = null;
      sock.on('data', (chunk: Buffer) => {
        if (connection !== null) connection.bytesReceived += chunk.length;
      });
      client.on('error', (err) => {
        if (!settled) fail(describeError(err), err);
        // After ready, errors surface as 'close' and fail the channels in flight.
      });
      client.on('close', () => fail('connection closed during the handshake'));
      client.on('ready', () => {
        if (settled) return;
        settled = true;
        timer.cancel();
        connection = conn();
        resolve(connection);
      });
      // SSH is request/response: Nagle's algorithm against the peer's delayed ACK would add
      // ~40 ms to every round trip (handshake steps, each short command).
      sock.setNoDelay(true);
      try {
        sock.connect({ host: o.host, port: o.port });
        client.connect({
          sock,
          username: o.username,
          authHandler: o.signers.map((key) => ({ type: 'publickey' as const, username: o.username, key })),
          // Every key is accepted here and recorded: trust is decided after authentication,
          // by the executor, before any worker command runs on this connection.
          hostVerifier: (key: Buffer) => {
            hostKey = Buffer.from(key);
            return true;
          },
          // The Clock owns time (virtual in the simulator): ssh2's wall-clock timers are off.
          readyTimeout: 0,
          keepaliveInterval: 0,
        });
      } catch (e) {
        fail(describeError(e), e);
      }
    });
  }

  get isOpen(): boolean {
    return this.open;
  }

  /**
   * Calls `fn` once when the connection closes (at once if it already has). Returns a
   * function that unsubscribes.
   */
  onClose(fn: () => void): () => void {
    if (!this.open) {
      fn();
      return () => {};
    }
    this.closeListeners.add(fn);
    return () => this.closeListeners.delete(fn);
  }

  /**
   * Run `command` on a new channel, send `stdin` and EOF, collect the output. Resolves with
   * the outcome whatever the exit status. Rejects with TransientError when the channel
   * cannot be opened or the connection drops first, and with `signal.reason` when `signal`
   * aborts (the channel is then signalled and closed).
   */
  async exec(command: string, stdin: Buffer | undefined, signal: AbortSignal): Promise<ChannelOutcome> {
    for (;;) {
      await this.acquire(signal);
      try {
        return await this.runChannel(command, stdin, signal);
      } catch (e) {
        // A server with a lower session limit than ours (sshd's MaxSessions, or sessions it
        // has not yet freed) refuses the channel while others are open: learn its limit and
        // wait for a slot. Bounded: each retry lowers the limit, and a refusal with no other
        // channel open is final.
        if (e instanceof ChannelOpenError && e.refusedByServer && this.open && this.active > 1) {
          this.maxSessions = Math.min(this.maxSessions, this.active - 1);
          continue;
        }
        throw e;
      } finally {
        this.release();
      }
    }
  }

  /** Close the connection; channels in flight reject with TransientError. */
  close(): void {
    this.client.end();
    this.markClosed();
  }

  private runChannel(command: string, stdin: Buffer | undefined, signal: AbortSignal): Promise<ChannelOutcome> {
    return new Promise((resolve, reject) => {
      if (!this.open) {
        reject(new ChannelOpenError(`opening a channel on ${this.address}: connection closed`));
        return;
      }
      signal.throwIfAborted();
      let channel: ClientChannel | null = null;
      let done = false;
      let unsubscribe = () => {};
      const finish = (f: () => void) => {
        if (done) return;
        done = true;
        signal.removeEventListener('abort', onAbort);
        unsubscribe();
        f();
      };
      const onAbort = () => {
        if (channel !== null) {
          sendSignal(channel, 'KILL');
          channel.close();
        }
        finish(() => reject(signal.reason));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      const bytesAtStart = this.bytesReceived;
      unsubscribe = this.onClose(() =>
        finish(() => {
          // ssh2 sends the exec request only after the server confirms the channel; nothing
          // received since we asked means no confirmation, so the command never started.
          const started = channel !== null || this.bytesReceived !== bytesAtStart;
          const Err = started ? TransientError : ChannelOpenError;
          reject(new Err(`running a command on ${this.address}: connection dropped`));
        }),
      );
      try {
        this.client.exec(command, (err, ch) => {
          if (err) {
            const refused = this.open;
            finish(() => reject(new ChannelOpenError(`opening a channel on ${this.address}: ${err.message}`, refused, { cause: err })));
            return;
          }
          channel = ch;
          if (done) {
            ch.close();
            return;
          }
          const out: Buffer[] = [];
          const errOut: Buffer[] = [];
          let exitCode: number | null = null;
          let exitSignal: string | null = null;
          let sawExit = false;
          ch.on('data', (d: Buffer) => out.push(d));
          ch.stderr.on('data', (d: Buffer) => errOut.push(d));
          ch.on('exit', (code: number | null, sig?: string) => {
            sawExit = true;
            exitCode = typeof code === 'number' ? code : null;
            exitSignal = typeof sig === 'string' ? sig : null;
          });
          ch.on('close', () => {
            if (!sawExit && !this.open) return; // the connection's close handler rejects
            finish(() =>
              resolve({ exitCode, signal: exitSignal, stdout: Buffer.concat(out), stderr: Buffer.concat(errOut) }),
            );
          });
          ch.end(stdin);
        });
      } catch (e) {
        finish(() => reject(new ChannelOpenError(`opening a channel on ${this.address}: ${describeError(e)}`, false, { cause: e })));
      }
    });
  }

  private acquire(signal: AbortSignal): Promise<void> {
    if (this.active < this.maxSessions) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal.removeEventListener('abort', onAbort);
        this.active++;
        resolve();
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(grant);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(grant);
    });
  }

  private release(): void {
    this.active--;
    const next = this.waiting.shift();
    if (next !== undefined) next();
  }

  private markClosed(): void {
    if (!this.open) return;
    this.open = false;
    const fns = [...this.closeListeners];
    this.closeListeners.clear();
    for (const fn of fns) fn();
  }
}

/**
 * Ask the server to signal the command (OpenSSH delivers it to the command's process
 * group), so that a timed-out command does not linger on the VM. ssh2's `signal()` does
 * nothing once our side of the channel is ended, which it always is (stdin is closed at
 * once), so the request goes through the channel's protocol object. Best effort: a server
 * that ignores it still sees the channel close.
 */
function sendSignal(channel: ClientChannel, name: string): void {
  const ch = channel as unknown as {
    outgoing?: { id?: number; state?: string };
    _client?: { _protocol?: { signal?: (id: number, name: string) => void } };
  };
  const proto = ch._client?._protocol;
  const id = ch.outgoing?.id;
  const state = ch.outgoing?.state;
  if ((state !== 'open' && state !== 'eof') || typeof id !== 'number' || typeof proto?.signal !== 'function') return;
  try {
    proto.signal(id, name);
  } catch {
    // the connection is going away; closing the channel is all that is left
  }
}
