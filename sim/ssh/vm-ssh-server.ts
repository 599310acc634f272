import { createServer, type Server as NetServer, type Socket } from 'node:net';
import ssh2, { type AuthContext, type Connection, type ParsedKey, type ServerChannel } from 'ssh2';
import { nullLogger, type Logger } from '../../core/ports/logger.js';
import { describeError } from '../../core/ports/errors.js';
import type { CommandHandler } from '../vm/command-handler.js';

// ssh2 is CommonJS: Node's ESM loader gives its exports on the default import only.
const { Server: Ssh2Server } = ssh2;

export interface VmSshServerOptions {
  /** The VM's host key: a private key (OpenSSH or PEM text), or parsed. */
  readonly hostKey: string | Buffer | ParsedKey;
  /** Public keys allowed to log in (the dispatcher's); any user name is accepted. */
  readonly authorizedKeys: readonly ParsedKey[];
  /** Answers every `exec` request. */
  readonly handler: CommandHandler;
  /** Loopback port to listen on; 0 (default) picks a free one. */
  readonly port?: number;
  readonly logger?: Logger;
}

/** One simulated VM's SSH daemon, on 127.0.0.1. */
export interface VmSshServer {
  readonly port: number;
  /** `127.0.0.1:<port>`: what the simulated instance reports as its address. */
  readonly address: string;
  /** Connections open now. */
  openConnections(): number;
  /** Connections accepted since start. */
  acceptedConnections(): number;
  /** Drop every open connection from the server side, as a crashed sshd would. */
  dropConnections(): void;
  /**
   * While unreachable, open connections are dropped and new ones are closed at once: the
   * simulator's "ssh-partition" fault. (Closing rather than blackholing keeps failures
   * prompt, so a virtual clock waiting on the I/O never stalls.)
   */
  setReachable(reachable: boolean): void;
  /** Stop listening and drop every connection. Idempotent. */
  close(): Promise<void>;
}

/**
 * Start an SSH server for one simulated VM. It accepts public-key authentication with
 * `authorizedKeys` only, and answers each `exec` request by reading the channel's input to
 * EOF, calling `handler.run(command, stdin)` and sending back stdout, stderr and the exit
 * status. When `run` rejects (the VM cannot answer) the whole connection is dropped. `env` requests are accepted and ignored; shells, ptys, subsystems and forwarding
 * are refused.
 *
 * Rejects with "starting the SSH server ...: cause" when the key is unusable or the port
 * is taken.
 */
export async function startVmSshServer(opts: VmSshServerOptions): Promise<VmSshServer> {
  const log = opts.logger ?? nullLogger;
  const allowed = opts.authorizedKeys.map((k) => k.getPublicSSH());
  // ssh2 parses text keys again; a parsed key is handed over as `{key}`, which it takes as is
  // (its type declarations do not say so, hence the cast).
  const hostKey =
    typeof opts.hostKey === 'string' || Buffer.isBuffer(opts.hostKey) ? opts.hostKey : ({ key: opts.hostKey } as unknown as Buffer);
  let ssh: InstanceType<typeof Ssh2Server>;
  try {
    ssh = new Ssh2Server({ hostKeys: [hostKey] }, (client) => serveClient(client, opts, allowed, log));
  } catch (e) {
    throw new Error(`starting the SSH server: bad host key: ${describeError(e)}`, { cause: e });
  }
  const sockets = new Set<Socket>();
  let accepted = 0;
  let reachable = true;
  const net: NetServer = createServer((socket) => {
    if (!reachable) {
      socket.destroy();
      return;
    }
    accepted++;
    sockets.add(socket);
    // Request/response protocol: without this, Nagle plus delayed ACKs add ~40 ms per round trip.
    socket.setNoDelay(true);
    socket.on('close', () => sockets.delete(socket));
    // Errors on one connection (a reset from the peer) concern that connection only.
    socket.on('error', () => {});
    ssh.injectSocket(socket);
  });
  await new Promise<void>((resolve, reject) => {
    net.once('error', (e) => reject(new Error(`starting the SSH server on 127.0.0.1:${opts.port ?? 0}: ${e.message}`, { cause: e })));
    net.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const addr = net.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  const drop = () => {
    for (const s of sockets) s.destroy();
  };
  let closing: Promise<void> | null = null;
  return {
    port,
    address: `127.0.0.1:${port}`,
    openConnections: () => sockets.size,
    acceptedConnections: () => accepted,
    dropConnections: drop,
    setReachable(r: boolean) {
      reachable = r;
      if (!r) drop();
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        net.close(() => resolve());
        drop();
      });
      return closing;
    },
  };
}

function serveClient(client: Connection, opts: VmSshServerOptions, allowed: readonly Buffer[], log: Logger): void {
  client.on('error', (e) => log.debug('ssh server connection error', { error: e.message }));
  client.on('authentication', (ctx: AuthContext) => {
    if (ctx.method !== 'publickey') {
      ctx.reject(['publickey']);
      return;
    }
    const blob = ctx.key.data;
    const known = allowed.findIndex((a) => a.equals(blob));
    const key = known >= 0 ? opts.authorizedKeys[known] : undefined;
    if (key === undefined) {
      ctx.reject(['publickey']);
      return;
    }
    // Without a signature the client only asks whether this key would do.
    if (ctx.signature !== undefined && ctx.blob !== undefined && key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true) {
      ctx.reject(['publickey']);
      return;
    }
    ctx.accept();
  });
  client.on('ready', () => {
    client.on('session', (acceptSession) => {
      const session = acceptSession();
      session.on('env', (accept) => accept?.());
      session.on('exec', (accept, _reject, info) => {
        serveExec(accept(), info.command, opts.handler, log, () => client.end());
      });
    });
  });
}

function serveExec(stream: ServerChannel, command: string, handler: CommandHandler, log: Logger, drop: () => void): void {
  const input: Buffer[] = [];
  let closed = false;
  stream.on('close', () => {
    closed = true;
  });
  stream.on('data', (d: Buffer) => input.push(d));
  stream.once('end', () => {
    // Through a promise so that a handler that throws instead of rejecting is handled alike.
    Promise.resolve()
      .then(() => handler.run(command, Buffer.concat(input)))
      .then(
      (out) => {
        if (closed) return;
        if (out.stdout.length > 0) stream.write(out.stdout);
        if (out.stderr.length > 0) stream.stderr.write(out.stderr);
        stream.exit(out.exitCode);
        stream.end();
      },
      (e: unknown) => {
        // The VM could not answer at all (halted, partitioned): to the client that is a
        // connection failure, as the direct transport reports it.
        log.debug('simulated VM did not answer; dropping the connection', { command, error: describeError(e) });
        drop();
      },
    );
  });
}
