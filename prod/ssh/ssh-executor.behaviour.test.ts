import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HostKeyError, TimeoutError, TransientError } from '../../core/ports/errors.js';
import type { ExecutorTarget } from '../../core/ports/instance-set.js';
import type { LogFields, Logger } from '../../core/ports/logger.js';
import { deadLoopbackAddress } from '../../test/fixtures/ssh-contract-envs.js';
import { generateTestKeyPair, type TestKeyPair } from '../../test/fixtures/ssh-keys.js';
import { realClock, recordingClock } from '../../test/fixtures/ssh-real-clock.js';
import { ScriptedHandler } from '../../test/fixtures/ssh-scripted-handler.js';
import { startVmSshServer, type VmSshServer } from '../../sim/ssh/vm-ssh-server.js';
import { keyFingerprint } from './keys.js';
import { SshExecutor, type SshExecutorOptions } from './ssh-executor.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const dispatch = generateTestKeyPair('dispatch');

async function server(hostKey: TestKeyPair, port = 0): Promise<{ server: VmSshServer; handler: ScriptedHandler }> {
  const handler = new ScriptedHandler('s3cret');
  const s = await startVmSshServer({ hostKey: hostKey.privateKey, authorizedKeys: [dispatch.parsed], handler, port });
  cleanups.push(() => {
    handler.dispose();
    return s.close();
  });
  return { server: s, handler };
}

/** A target whose address and verifier the test can change. */
class MutableTarget implements ExecutorTarget {
  verified: Buffer[] = [];
  refuse = false;
  constructor(public addr: string) {}
  address() {
    return this.addr;
  }
  remoteUser() {
    return 'root';
  }
  async verifyHostKey(key: Buffer, run: (c: string) => Promise<{ stdout: Buffer }>) {
    const secret = (await run('cat /var/run/arvados-instance-secret')).stdout.toString();
    if (this.refuse || secret !== 's3cret') throw new HostKeyError('verifying host key: bad instance secret');
    this.verified.push(key);
  }
}

function executor(target: ExecutorTarget, o: Partial<SshExecutorOptions> = {}): SshExecutor {
  const ex = new SshExecutor(target, {
    signers: [dispatch.parsed],
    clock: realClock,
    dialTimeoutMs: 5_000,
    commandTimeoutMs: 10_000,
    backoff: { initialMs: 10, maxMs: 100 },
    ...o,
  });
  cleanups.push(() => ex.close());
  return ex;
}

class RecordingLogger implements Logger {
  lines: Array<{ level: string; msg: string; fields: LogFields }> = [];
  debug(msg: string, fields: LogFields = {}) { this.lines.push({ level: 'debug', msg, fields }); }
  info(msg: string, fields: LogFields = {}) { this.lines.push({ level: 'info', msg, fields }); }
  warn(msg: string, fields: LogFields = {}) { this.lines.push({ level: 'warn', msg, fields }); }
  error(msg: string, fields: LogFields = {}) { this.lines.push({ level: 'error', msg, fields }); }
  child() { return this; }
}

describe('SshExecutor host keys', () => {
  it('verifies a changed host key again, and keeps trusting the old one when the new one is refused', async () => {
    const k1 = generateTestKeyPair('k1');
    const k2 = generateTestKeyPair('k2');
    const k3 = generateTestKeyPair('k3');
    const first = await server(k1);
    const target = new MutableTarget(first.server.address);
    const log = new RecordingLogger();
    const ex = executor(target, { logger: log });
    await ex.execute('echo one');
    expect(target.verified.map((k) => k.equals(k1.publicBlob))).toEqual([true]);

    // The VM comes back with a new host key (re-imaged): verified again before use.
    await first.server.close();
    const second = await server(k2, first.server.port);
    await ex.execute('echo two');
    expect(target.verified.length).toBe(2);
    expect(ex.trustedHostKey()?.equals(k2.publicBlob)).toBe(true);
    expect(log.lines.some((l) => l.msg === 'changed host key verified and accepted')).toBe(true);

    // An impostor with yet another key: refused, logged with its fingerprint, nothing run.
    await second.server.close();
    const third = await server(k3, first.server.port);
    target.refuse = true;
    await expect(ex.execute('echo three')).rejects.toBeInstanceOf(HostKeyError);
    expect(third.handler.commands).toEqual(['cat /var/run/arvados-instance-secret']);
    expect(ex.trustedHostKey()?.equals(k2.publicBlob)).toBe(true);
    const refusal = log.lines.find((l) => l.msg === 'host key refused');
    expect(refusal?.level).toBe('warn');
    expect(refusal?.fields.fingerprint).toBe(keyFingerprint(k3.publicBlob));
    expect(JSON.stringify(log.lines)).not.toContain(k3.publicBlob.toString('base64'));
  });
});

describe('SshExecutor host-key check that gets no answer', () => {
  it('is a transient failure, not a refusal', async () => {
    const { server: s } = await server(generateTestKeyPair());
    const log = new RecordingLogger();
    const target: ExecutorTarget = {
      address: () => s.address,
      remoteUser: () => 'root',
      verifyHostKey: async (_key, run) => {
        await run('sleep 30');
      },
    };
    const ex = executor(target, { commandTimeoutMs: 300, logger: log });
    const e = await ex.execute('echo x', { timeoutMs: 5_000 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TransientError);
    expect(e).not.toBeInstanceOf(HostKeyError);
    expect((e as Error).message).toMatch(/running "sleep 30" to verify the host key: timed out after 300ms/);
    expect(log.lines.some((l) => l.msg === 'host key refused')).toBe(false);
  });
});

describe('SshExecutor connection failures', () => {
  it('reports a VM that cannot answer as a connection failure, even mid host-key check', async () => {
    const { server: s, handler } = await server(generateTestKeyPair());
    const target = new MutableTarget(s.address);
    const ex = executor(target);
    handler.unreachable = true;
    // First connection: the secret check itself loses the link; that is no refusal.
    const e1 = await ex.execute('echo x').catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(TransientError);
    expect(e1).not.toBeInstanceOf(HostKeyError);
    handler.unreachable = false;
    await ex.execute('echo x');
    handler.unreachable = true;
    expect(await ex.execute('echo y').catch((e: unknown) => e)).toBeInstanceOf(TransientError);
    handler.unreachable = false;
    expect((await ex.execute('echo z')).stdout.toString()).toBe('z\n');
  });

  it('backs off exponentially between failed attempts and resets after a success', async () => {
    const { server: s } = await server(generateTestKeyPair());
    const target = new MutableTarget(await deadLoopbackAddress());
    const clock = recordingClock();
    const ex = executor(target, { clock });
    for (let i = 0; i < 3; i++) await expect(ex.execute('echo x')).rejects.toBeInstanceOf(TransientError);
    expect(clock.sleeps).toEqual([10, 20]);
    target.addr = s.address;
    await ex.execute('echo x');
    expect(clock.sleeps).toEqual([10, 20, 40]);
    s.dropConnections();
    await ex.execute('echo x');
    expect(clock.sleeps).toEqual([10, 20, 40]);
  });

  it('gives up dialling a server that never answers after the dial timeout', async () => {
    const held: Socket[] = [];
    const mute = createServer((sock) => held.push(sock));
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
    cleanups.push(
      () =>
        new Promise((r) => {
          for (const sock of held) sock.destroy();
          mute.close(r);
        }),
    );
    const ex = executor(new MutableTarget(`127.0.0.1:${portOf(mute)}`), { dialTimeoutMs: 200 });
    const e = await ex.execute('echo x').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TransientError);
    expect((e as Error).message).toMatch(/timed out after 200ms/);
  });

  it('drops a connection that stayed silent for a whole command timeout, then reconnects', async () => {
    const { server: s } = await server(generateTestKeyPair());
    const proxy = await freezableProxy(s.port);
    const ex = executor(new MutableTarget(`127.0.0.1:${proxy.port}`));
    await ex.execute('echo before');
    proxy.freeze();
    await expect(ex.execute('echo lost', { timeoutMs: 300 })).rejects.toBeInstanceOf(TimeoutError);
    proxy.thaw();
    expect((await ex.execute('echo after')).stdout.toString()).toBe('after\n');
    expect(s.acceptedConnections()).toBe(2);
  });

  it('counts time spent waiting for a session slot against the command timeout', async () => {
    const { server: s } = await server(generateTestKeyPair());
    const ex = executor(new MutableTarget(s.address), { maxSessionsPerConnection: 1 });
    const hog = ex.execute('sleep 30').catch((e: unknown) => e);
    await expect(ex.execute('echo queued', { timeoutMs: 300 })).rejects.toBeInstanceOf(TimeoutError);
    ex.close();
    expect(await hog).toBeInstanceOf(TransientError);
  });

  it('reports a key the VM does not accept as a connection failure', async () => {
    const { server: s, handler } = await server(generateTestKeyPair());
    const stranger = generateTestKeyPair('stranger');
    const ex = executor(new MutableTarget(s.address), { signers: [stranger.parsed] });
    const e = await ex.execute('echo x').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TransientError);
    expect((e as Error).message).toMatch(/authentication methods failed/);
    expect(handler.commands).toEqual([]);
  });

  it('treats a timeout of 0 or Infinity as none', async () => {
    const { server: s } = await server(generateTestKeyPair());
    const ex = executor(new MutableTarget(s.address), { commandTimeoutMs: 0 });
    expect((await ex.execute('echo a')).stdout.toString()).toBe('a\n');
    expect((await ex.execute('echo b', { timeoutMs: Infinity })).stdout.toString()).toBe('b\n');
  });

  it('moves to the new address when the target changes', async () => {
    const a = await server(generateTestKeyPair());
    const b = await server(generateTestKeyPair());
    const target = new MutableTarget(a.server.address);
    const ex = executor(target);
    await ex.execute('echo on-a');
    target.addr = b.server.address;
    ex.setTarget(target);
    await ex.execute('echo on-b');
    expect(a.handler.commands.filter((c) => c.startsWith('echo'))).toEqual(['echo on-a']);
    expect(b.handler.commands.filter((c) => c.startsWith('echo'))).toEqual(['echo on-b']);
    expect(target.verified.length).toBe(2);
  });
});

function portOf(s: Server): number {
  const a = s.address();
  return typeof a === 'object' && a !== null ? a.port : 0;
}

/** A loopback TCP relay that can stop relaying (a silent network partition). */
async function freezableProxy(targetPort: number) {
  const pairs: Array<[Socket, Socket]> = [];
  let frozen = false;
  const srv = createServer((down) => {
    const up = connect(targetPort, '127.0.0.1');
    pairs.push([down, up]);
    down.on('data', (d: Buffer) => !frozen && up.write(d));
    up.on('data', (d: Buffer) => !frozen && down.write(d));
    const kill = () => {
      down.destroy();
      up.destroy();
    };
    down.on('close', kill).on('error', kill);
    up.on('close', kill).on('error', kill);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const [d, u] of pairs) {
          d.destroy();
          u.destroy();
        }
        srv.close(() => r());
      }),
  );
  return {
    port: portOf(srv),
    freeze: () => (frozen = true),
    thaw: () => (frozen = false),
  };
}
