import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CommandError,
  HostKeyError,
  NoAddressError,
  TimeoutError,
  TransientError,
} from '../../core/ports/errors.js';
import type { Executor } from '../../core/ports/executor.js';
import type { ExecutorTarget } from '../../core/ports/instance-set.js';

export type VerifyHostKey = ExecutorTarget['verifyHostKey'];

export interface NewExecutorOptions {
  /** Default: accept any key. */
  readonly verifyHostKey?: VerifyHostKey;
  /** Default: the server's address. */
  readonly address?: string;
  readonly commandTimeoutMs?: number;
}

/** What a server under test offers the contract suite. */
export interface ExecutorContractEnv {
  newExecutor(o?: NewExecutorOptions): Executor;
  /** The server's host key (public blob), as the executor should be shown it. */
  readonly hostKey: Buffer;
  /** Drop every connection from the server side; resolves once they are closed there. */
  dropConnections(): Promise<void>;
  /** A command with an effect the test can observe, to prove that a command never ran. */
  sideEffect(): { readonly command: string; happened(): boolean };
  /** Connections accepted so far, when the server can tell. */
  acceptedConnections?(): number;
  /** An address where nothing listens. */
  readonly deadAddress: string;
  teardown(): Promise<void>;
}

const text = (b: Buffer) => b.toString('utf8');

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected the promise to reject');
}

/**
 * The Executor port's contract (core/ports/executor.ts), run against every implementation
 * that talks to a server: the in-process SSH server of simulated VMs and OpenSSH's sshd.
 * Commands are plain POSIX shell, so that a real shell and a scripted handler agree.
 */
export function executorContract(name: string, setup: () => Promise<ExecutorContractEnv>): void {
  describe(`Executor contract: ${name}`, () => {
    let env: ExecutorContractEnv;
    const made: Executor[] = [];
    const make = (o?: NewExecutorOptions) => {
      const ex = env.newExecutor(o);
      made.push(ex);
      return ex;
    };

    beforeAll(async () => {
      env = await setup();
    });
    afterEach(() => {
      for (const ex of made.splice(0)) ex.close();
    });
    afterAll(async () => {
      await env?.teardown();
    });

    it('runs a command and resolves with its output on exit 0', async () => {
      const r = await make().execute('echo hello');
      expect(text(r.stdout)).toBe('hello\n');
      expect(text(r.stderr)).toBe('');
    });

    it('sends stdin and closes it', async () => {
      const ex = make();
      const r = await ex.execute('cat', { stdin: Buffer.from('line 1\nline 2 with "quotes" and $HOME\n') });
      expect(text(r.stdout)).toBe('line 1\nline 2 with "quotes" and $HOME\n');
      // Without stdin the command sees EOF at once instead of waiting forever.
      expect((await ex.execute('cat')).stdout.length).toBe(0);
    });

    it('rejects with CommandError carrying exit code, stdout and stderr on a non-zero exit', async () => {
      const e = await rejection(make().execute('echo out; echo oops >&2; exit 3'));
      expect(e).toBeInstanceOf(CommandError);
      const ce = e as CommandError;
      expect(ce.exitCode).toBe(3);
      expect(text(ce.stdout)).toBe('out\n');
      expect(text(ce.stderr)).toBe('oops\n');
      expect(ce.message).toMatch(/exit status 3/);
    });

    it('returns stderr of a successful command', async () => {
      const r = await make().execute('echo warn >&2');
      expect(text(r.stdout)).toBe('');
      expect(text(r.stderr)).toBe('warn\n');
    });

    it('carries large output and large stdin intact', async () => {
      const ex = make();
      const big = Buffer.alloc(6 * 1024 * 1024);
      for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 13)) & 0xff;
      const echoed = await ex.execute('cat', { stdin: big });
      expect(echoed.stdout.equals(big)).toBe(true);
      const zeros = await ex.execute('head -c 4194304 /dev/zero');
      expect(zeros.stdout.length).toBe(4194304);
      expect(zeros.stdout.every((b) => b === 0)).toBe(true);
    });

    it('runs many commands concurrently over one connection', async () => {
      const ex = make();
      await ex.execute('echo warm');
      const before = env.acceptedConnections?.();
      const n = 16; // more than OpenSSH's default MaxSessions (10)
      const results = await Promise.all(Array.from({ length: n }, (_, i) => ex.execute(`echo c${i}`)));
      results.forEach((r, i) => expect(text(r.stdout)).toBe(`c${i}\n`));
      if (before !== undefined) expect(env.acceptedConnections?.()).toBe(before);
    });

    it('reconnects after the server drops the connection', async () => {
      const ex = make();
      expect(text((await ex.execute('echo before')).stdout)).toBe('before\n');
      await env.dropConnections();
      expect(text((await ex.execute('echo after')).stdout)).toBe('after\n');
    });

    it('rejects with TimeoutError when a command outlives its timeout, and carries on', async () => {
      const ex = make({ commandTimeoutMs: 10_000 });
      await ex.execute('echo ready');
      const e = await rejection(ex.execute('sleep 30', { timeoutMs: 300 }));
      expect(e).toBeInstanceOf(TimeoutError);
      expect((e as Error).message).toMatch(/timed out after 300ms/);
      expect(text((await ex.execute('echo still-alive')).stdout)).toBe('still-alive\n');
    });

    it('applies the default command timeout', async () => {
      const e = await rejection(make({ commandTimeoutMs: 300 }).execute('sleep 30'));
      expect(e).toBeInstanceOf(TimeoutError);
    });

    it('refuses a host key the target does not accept, and runs no command on that connection', async () => {
      const probe = env.sideEffect();
      let seen: Buffer | null = null;
      const ex = make({
        verifyHostKey: (key) => {
          seen = key;
          return Promise.reject(new HostKeyError('verifying host key: bad instance secret'));
        },
      });
      const e = await rejection(ex.execute(probe.command));
      expect(e).toBeInstanceOf(HostKeyError);
      expect(seen).not.toBeNull();
      expect(probe.happened()).toBe(false);
      // Any other failure of the verifier is a refusal too.
      const ex2 = make({ verifyHostKey: () => Promise.reject(new Error('driver says no')) });
      const e2 = await rejection(ex2.execute(probe.command));
      expect(e2).toBeInstanceOf(HostKeyError);
      expect((e2 as Error).message).toMatch(/driver says no/);
      expect(probe.happened()).toBe(false);
    });

    it('verifies the host key once, over the new connection, before any command', async () => {
      const calls: string[] = [];
      const ex = make({
        verifyHostKey: async (key, run) => {
          expect(key.equals(env.hostKey)).toBe(true);
          const r = await run('echo verifying');
          calls.push(text(r.stdout));
        },
      });
      await Promise.all([ex.execute('echo a'), ex.execute('echo b'), ex.execute('echo c')]);
      await env.dropConnections();
      await ex.execute('echo d');
      // The key did not change across the reconnection: no second verification.
      expect(calls).toEqual(['verifying\n']);
    });

    it('rejects with NoAddressError while the target has no address', async () => {
      const e = await rejection(make({ address: '' }).execute('echo x'));
      expect(e).toBeInstanceOf(NoAddressError);
    });

    it('rejects with TransientError when the server cannot be reached', async () => {
      const e = await rejection(make({ address: env.deadAddress }).execute('echo x'));
      expect(e).toBeInstanceOf(TransientError);
    });

    it('rejects in-flight commands with TransientError on close', async () => {
      const ex = make();
      await ex.execute('echo ready');
      const pending = ex.execute('sleep 30');
      await new Promise((r) => setTimeout(r, 50));
      ex.close();
      expect(await rejection(pending)).toBeInstanceOf(TransientError);
    });
  });
}
