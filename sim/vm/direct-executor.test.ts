import { describe, expect, it } from 'vitest';
import { NO_GPU } from '../../core/domain/instance-type.js';
import { SeededRng } from '../../core/domain/seeded-rng.js';
import { CommandError, NoAddressError, TimeoutError, TransientError } from '../../core/ports/errors.js';
import type { ExecutorTarget } from '../../core/ports/instance-set.js';
import { EventEngine } from '../engine/event-engine.js';
import { RecordingCrunchRunWorld } from './crunch-run-world.js';
import { DirectExecutor, directExecutorFactory } from './direct-executor.js';
import { NO_HOOKS, SimulatedVm } from './simulated-vm.js';
import { advance, runUntilSettled } from './vm-test-kit.js';

function setup(defaultTimeoutMs?: number) {
  const engine = new EventEngine(0);
  const vm = new SimulatedVm({
    instanceId: 'i-1',
    type: { name: 't', providerType: 't', vcpus: 1, ram: 1, scratch: 0, includedScratch: 0, addedScratch: 0, price: 1, preemptible: false, gpu: NO_GPU },
    initCommand: 'umask 0177 && echo -n "secret" >/var/run/arvados-instance-secret',
    publicKey: null,
    remoteUser: 'crunch',
    broken: false,
    rng: new SeededRng('x'),
    hooks: NO_HOOKS,
    clock: engine,
    world: new RecordingCrunchRunWorld(() => engine.now()),
  });
  let address = '10.0.0.1';
  const target: ExecutorTarget = {
    address: () => address,
    remoteUser: () => 'crunch',
    verifyHostKey: () => Promise.resolve(),
  };
  const exec = new DirectExecutor({ clock: engine, locate: (t) => (t.address() === '10.0.0.1' ? vm : undefined), defaultTimeoutMs });
  exec.setTarget(target);
  const run = (cmd: string, opts?: { stdin?: Buffer; timeoutMs?: number }) => runUntilSettled(engine, exec.execute(cmd, opts));
  return { engine, vm, exec, run, setAddress: (a: string) => (address = a) };
}

describe('DirectExecutor', () => {
  it('resolves with the output of a command that exits 0', async () => {
    const t = setup();
    await t.vm.boot();
    const r = await t.run('sudo cat /var/run/arvados-instance-secret');
    expect(r.stdout.toString()).toBe('secret');
    expect(r.stderr.length).toBe(0);
  });

  it('rejects with CommandError carrying exit code and output', async () => {
    const t = setup();
    const err = await t.run('true').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandError);
    expect((err as CommandError).exitCode).toBe(1);
    expect((err as CommandError).stderr.toString()).toContain('booting');
    expect((err as CommandError).message).toMatch(/^running command "true" on 10\.0\.0\.1: exit status 1: /);
  });

  it('factory: the first command reaches the VM through the target the pool hands over', async () => {
    // As with production's sshExecutorFactory: no setTarget call (the next listing) needed.
    const t = setup();
    await t.vm.boot();
    const target: ExecutorTarget = { address: () => '10.0.0.1', remoteUser: () => 'crunch', verifyHostKey: () => Promise.resolve() };
    const exec = directExecutorFactory({ clock: t.engine, locate: (x) => (x.address() === '10.0.0.1' ? t.vm : undefined) })(target);
    const r = await runUntilSettled(t.engine, exec.execute('sudo cat /var/run/arvados-instance-secret'));
    expect(r.stdout.toString()).toBe('secret');
  });

  it('rejects with NoAddressError before the target has an address, and without a target', async () => {
    const t = setup();
    t.setAddress('');
    await expect(t.exec.execute('true')).rejects.toBeInstanceOf(NoAddressError);
    const bare = new DirectExecutor({ clock: t.engine, locate: () => undefined });
    await expect(bare.execute('true')).rejects.toBeInstanceOf(NoAddressError);
  });

  it('rejects with TransientError when no VM answers, the VM is gone or partitioned', async () => {
    const t = setup();
    await t.vm.boot();
    t.setAddress('10.9.9.9');
    await expect(t.exec.execute('true')).rejects.toBeInstanceOf(TransientError);
    t.setAddress('10.0.0.1');
    t.vm.partition(t.engine.now() + 1000);
    await expect(t.exec.execute('true')).rejects.toBeInstanceOf(TransientError);
    await advance(t.engine, 1000);
    await expect(t.run('true')).resolves.toBeDefined();
    const inflight = t.exec.execute('true');
    t.vm.halt('destroyed');
    await expect(inflight).rejects.toBeInstanceOf(TransientError);
  });

  it('rejects with TimeoutError when a stalled command outlives its timeout', async () => {
    const t = setup(60_000);
    await t.vm.boot();
    t.vm.stall(t.engine.now() + 120_000);
    const start = t.engine.now();
    await expect(t.run('true', { timeoutMs: 2000 })).rejects.toBeInstanceOf(TimeoutError);
    expect(t.engine.now() - start).toBe(2000);
    await expect(t.run('true')).rejects.toBeInstanceOf(TimeoutError);
    expect(t.engine.now() - start).toBe(62_000);
  });

  it('rejects commands in flight with TransientError on close, and works again after', async () => {
    const t = setup();
    await t.vm.boot();
    const p = t.exec.execute('true');
    t.exec.close();
    await expect(p).rejects.toBeInstanceOf(TransientError);
    await expect(t.run('true')).resolves.toBeDefined();
  });

  it('passes stdin to the command', async () => {
    const t = setup();
    await t.vm.boot();
    await t.run(`sudo sh -c 'cat >/tmp/x'`, { stdin: Buffer.from('payload') });
    expect((await t.run('cat /tmp/x')).stdout.toString()).toBe('payload');
  });

  it('runs at most maxSessions commands at once; close rejects the waiting ones too', async () => {
    const t = setup();
    await t.vm.boot();
    const target: ExecutorTarget = { address: () => '10.0.0.1', remoteUser: () => 'crunch', verifyHostKey: () => Promise.resolve() };
    const exec = new DirectExecutor({ clock: t.engine, locate: () => t.vm, maxSessions: 2 }, target);
    const start = t.engine.now();
    const ends: number[] = [];
    const all = [0, 1, 2].map((i) => exec.execute('true').then(() => (ends[i] = t.engine.now() - start)));
    await runUntilSettled(t.engine, Promise.all(all));
    expect(ends).toEqual([5, 5, 10]); // 5 ms of VM latency a command
    const inFlight = [0, 1, 2].map(() => exec.execute('true'));
    exec.close();
    for (const p of inFlight) await expect(p).rejects.toBeInstanceOf(TransientError);
    await expect(runUntilSettled(t.engine, exec.execute('true'))).resolves.toBeDefined();
  });

  it('checks the host key once for the commands that arrive before it is trusted, as one SSH set-up', async () => {
    const t = setup();
    await t.vm.boot();
    let checks = 0;
    const target: ExecutorTarget = {
      address: () => '10.0.0.1',
      remoteUser: () => 'crunch',
      verifyHostKey: async (_key, run) => {
        checks++;
        await run('sudo cat /var/run/arvados-instance-secret');
      },
    };
    const exec = new DirectExecutor({ clock: t.engine, locate: () => t.vm }, target);
    await runUntilSettled(t.engine, Promise.all([exec.execute('true'), exec.execute('true')]));
    expect(checks).toBe(1);
  });
});
