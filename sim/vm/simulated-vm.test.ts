import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SeededRng } from '../../core/domain/seeded-rng.js';
import { EventEngine } from '../engine/event-engine.js';
import { RecordingCrunchRunWorld, type ContainerPlan } from './crunch-run-world.js';
import { SimulatedVm, VmUnreachableError, type VmBehavior, type VmHooks } from './simulated-vm.js';
import { advance, runUntilSettled, TEST_SECRET as SECRET, TEST_TYPE as TYPE, TEST_UUID as UUID } from './vm-test-kit.js';
import type { CrunchRunBehavior } from './crunch-run-model.js';

const UUID2 = 'zzzzz-dz642-000000000000002';
const CONFIG = Buffer.from(
  JSON.stringify({ Env: { ARVADOS_API_HOST: 'ctrl.example:443', ARVADOS_API_TOKEN: 'tok', InstanceType: '{}' }, KeepBuffers: 0 }),
);
const DETACH = `crunch-run --detach --stdin-config '--runtime-engine=docker' '${UUID}'`;

interface Setup {
  user?: string;
  broken?: boolean;
  plan?: (uuid: string) => ContainerPlan;
  behavior?: Partial<Omit<VmBehavior, 'crunchRun'>> & { crunchRun?: Partial<CrunchRunBehavior> };
  boot?: boolean;
}

function setup(s: Setup = {}) {
  const engine = new EventEngine(1_000_000);
  const world = new RecordingCrunchRunWorld(() => engine.now(), s.plan);
  const events: string[] = [];
  const hooks: VmHooks = {
    ready: () => events.push(`ready@${engine.now()}`),
    busyChanged: (n) => events.push(`busy ${n}@${engine.now()}`),
    containerStarted: (u) => events.push(`started ${u}@${engine.now()}`),
  };
  const vm = new SimulatedVm({
    instanceId: 'i-0123456789abcdef0',
    type: TYPE,
    initCommand: `umask 0177 && echo -n "${SECRET}" >/var/run/arvados-instance-secret\nmkdir -p /tmp/scratch`,
    publicKey: null,
    remoteUser: s.user ?? 'root',
    broken: s.broken ?? false,
    rng: new SeededRng('vm-test'),
    hooks,
    clock: engine,
    world,
    behavior: s.behavior as Partial<VmBehavior>,
  });
  const run = async (cmd: string, stdin: Buffer | string = '') => {
    const r = await runUntilSettled(engine, vm.run(cmd, Buffer.isBuffer(stdin) ? stdin : Buffer.from(stdin)));
    return { exitCode: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  };
  const advanceBy = (ms: number) => advance(engine, ms);
  return { engine, world, vm, run, advance: advanceBy, events };
}

async function booted(s: Setup = {}) {
  const t = setup(s);
  await t.vm.boot();
  return t;
}

/** The reference's runner install command (worker.go copyRunnerData). */
function installCommand(runner: string, root: boolean): string {
  const dir = runner.slice(0, runner.lastIndexOf('/'));
  const cmd = `set -e; dstdir="${dir}/"; dstfile="${runner}"; mkdir -p "$dstdir"; touch "$dstfile"; chmod 0755 "$dstdir" "$dstfile"; cat >"$dstfile"`;
  return root ? cmd : `sudo sh -c '${cmd.replaceAll("'", `'\\''`)}'`;
}

describe('SimulatedVm boot and probes', () => {
  it('fails the boot probe until booted, then passes it', async () => {
    const t = setup({ behavior: { bootProbeCommand: 'systemctl is-system-running' } });
    expect((await t.run('true')).exitCode).toBe(1);
    expect((await t.run('systemctl is-system-running')).exitCode).toBe(1);
    await t.vm.boot();
    expect((await t.run('true')).exitCode).toBe(0);
    expect((await t.run('systemctl is-system-running')).exitCode).toBe(0);
  });

  it('takes the configured command latency on the virtual clock', async () => {
    const t = await booted({ behavior: { commandLatencyMs: 7 } });
    const start = t.engine.now();
    await t.run('true');
    expect(t.engine.now() - start).toBe(7);
  });

  it('writes the instance secret from the init command, readable by root only', async () => {
    const root = await booted();
    expect(await root.run('cat /var/run/arvados-instance-secret')).toEqual({ exitCode: 0, stdout: SECRET, stderr: '' });
    const user = await booted({ user: 'crunch' });
    const denied = await user.run('cat /var/run/arvados-instance-secret');
    expect(denied.exitCode).toBe(1);
    expect(denied.stderr).toContain('Permission denied');
    expect((await user.run('sudo cat /var/run/arvados-instance-secret')).stdout).toBe(SECRET);
  });

  it('exits 127 for unknown commands and 2 for unsupported shell syntax', async () => {
    const t = await booted();
    expect((await t.run('docker ps -q')).exitCode).toBe(127);
    expect((await t.run('ls /var/lock | wc -l')).exitCode).toBe(2);
    expect((await t.run('echo $(id -u)')).exitCode).toBe(2);
    expect((await t.run('true || false')).exitCode).toBe(2);
    expect((await t.run("echo 'unterminated")).exitCode).toBe(2);
  });
});

describe('SimulatedVm runner install', () => {
  const binary = Buffer.from('#!/bin/sh\necho pretend crunch-run\n');
  const md5 = createHash('md5').update(binary).digest('hex');
  const runner = `/var/lib/arvados/crunch-run~${md5}`;

  for (const user of ['root', 'crunch']) {
    it(`installs the runner and md5sum matches (${user})`, async () => {
      const t = await booted({ user });
      const before = await t.run(`md5sum ${runner}`);
      expect(before.exitCode).toBe(1);
      expect(before.stderr).toContain('No such file');
      expect((await t.run(installCommand(runner, user === 'root'), binary)).exitCode).toBe(0);
      expect(await t.run(`md5sum ${runner}`)).toEqual({ exitCode: 0, stdout: `${md5}  ${runner}\n`, stderr: '' });
      const sudo = user === 'root' ? '' : 'sudo ';
      expect(await t.run(`${sudo}${runner} --list`)).toEqual({ exitCode: 0, stdout: '', stderr: '' });
    });
  }

  it('refuses the unwrapped install for a non-root user', async () => {
    const t = await booted({ user: 'crunch' });
    const r = await t.run(installCommand(runner, true), binary);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain('Permission denied');
  });

  it('exits 127 for crunch-run when the runner is missing', async () => {
    const t = await booted({ user: 'crunch', behavior: { crunchRunMissing: true } });
    expect((await t.run('sudo crunch-run --list')).exitCode).toBe(127);
    expect((await t.run(`sudo ${runner} --list`)).exitCode).toBe(127);
  });
});

describe('SimulatedVm crunch-run', () => {
  it('needs root: sudo for a non-root user, nothing for root', async () => {
    const user = await booted({ user: 'crunch' });
    expect((await user.run('crunch-run --list')).exitCode).toBe(1);
    expect((await user.run('sudo crunch-run --list')).exitCode).toBe(0);
    const root = await booted();
    expect((await root.run('crunch-run --list')).exitCode).toBe(0);
    expect((await root.run('sudo crunch-run --list')).exitCode).toBe(0);
  });

  it('runs a container: detach, Running, listed, Complete, unlisted', async () => {
    const t = await booted({ user: 'crunch', plan: () => ({ runtimeMs: 60_000, outcome: 'complete' }) });
    const t0 = t.engine.now();
    const r = await t.run(`sudo ${DETACH}`, CONFIG);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ UUID, PID: expect.any(Number) });
    expect((await t.run('sudo crunch-run --list')).stdout).toBe(`${UUID}\n`);
    await t.advance(70_000);
    expect((await t.run('sudo crunch-run --list')).stdout).toBe('');
    expect(t.world.calls.map((c) => [c.kind, c.at - t0])).toEqual([
      ['starting', 5],
      ['running', 1005],
      ['finished', 61_005],
    ]);
    expect(t.world.calls[2]).toMatchObject({ exitCode: 0 });
  });

  it('reports a failing container with a non-zero exit code', async () => {
    const t = await booted({ plan: () => ({ runtimeMs: 1000, outcome: 'fail', exitCode: 3 }) });
    await t.run(DETACH, CONFIG);
    await t.advance(5000);
    expect(t.world.calls.at(-1)).toMatchObject({ kind: 'finished', exitCode: 3 });
  });

  it('refuses a second detach while the lock is held', async () => {
    const t = await booted();
    expect((await t.run(DETACH, CONFIG)).exitCode).toBe(0);
    const again = await t.run(DETACH, CONFIG);
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toContain('resource temporarily unavailable');
  });

  it('validates the uuid, the flags and the config on stdin', async () => {
    const t = await booted();
    expect((await t.run(`crunch-run --detach --stdin-config '--runtime-engine=docker' 'zzzzz-dz642-short'`, CONFIG)).exitCode).toBe(1);
    expect((await t.run(`crunch-run --detach --stdin-config '--runtime-engine=docker' '--foo' '${UUID}'`, CONFIG)).exitCode).toBe(2);
    expect((await t.run(`crunch-run --detach --stdin-config '--runtime-engine=docker'`, CONFIG)).exitCode).toBe(2);
    expect((await t.run(DETACH, 'not json')).exitCode).toBe(1);
    const noToken = JSON.stringify({ Env: { ARVADOS_API_HOST: 'x' } });
    expect((await t.run(DETACH, noToken)).exitCode).toBe(1);
    expect(t.world.calls).toEqual([]);
  });

  it('accepts the reference test harness quoting of arguments', async () => {
    const t = await booted();
    const cmd = `crunch-run --detach --stdin-config '--runtime-engine=singularity' '--broken-node-hook=/bin/x'\\''y' '${UUID}'`;
    expect((await t.run(cmd, CONFIG)).exitCode).toBe(0);
  });

  it('saves prices from --stdin-prices and rejects malformed ones', async () => {
    const t = await booted({ user: 'crunch' });
    const prices = JSON.stringify([{ StartTime: '2026-01-01T00:00:00Z', Price: 0.05 }]);
    expect((await t.run('sudo crunch-run --list --stdin-prices', prices)).exitCode).toBe(0);
    expect((await t.run('sudo cat /var/lock/crunch-run-prices.json')).stdout).toBe(prices);
    expect((await t.run('sudo crunch-run --list --stdin-prices', '{"no":1}')).exitCode).toBe(1);
  });

  it('prints broken on a broken node and never reports it ready', async () => {
    const t = await booted({ broken: true });
    await t.run(`crunch-run --detach --stdin-config '--runtime-engine=docker' '${UUID2}'`, CONFIG);
    expect((await t.run('crunch-run --list')).stdout).toBe(`broken\n${UUID2}\n`);
    expect(t.events.filter((e) => e.startsWith('ready'))).toEqual([]);
  });

  it('answers a plain --list as the shell does for the same command in a longer line', async () => {
    const t = await booted({ user: 'crunch', plan: () => ({ runtimeMs: 10_000, outcome: 'fail', exitCode: 2 }), behavior: { crunchRun: { staleLockRate: 1 } } });
    const both = async (cmd: string, stdin = '') => {
      const direct = await t.run(cmd, stdin);
      expect(await t.run(`true && ${cmd}`, stdin)).toEqual(direct);
      return direct;
    };
    expect(await both('sudo crunch-run --list')).toEqual({ exitCode: 0, stdout: '', stderr: '' });
    await t.run(`sudo ${DETACH}`, CONFIG);
    expect((await both('sudo crunch-run --list')).stdout).toBe(`${UUID}\n`);
    await t.advance(20_000);
    expect((await both('sudo crunch-run --list')).stdout).toBe(`${UUID} stale\n`);
    expect((await both('sudo crunch-run --list --stdin-prices', '[{"Price":1}]')).exitCode).toBe(0);
    expect((await both('sudo crunch-run --list --stdin-prices', '{}')).exitCode).toBe(1);
    expect((await both('crunch-run --list')).exitCode).toBe(1);
    expect((await both(`sudo crunch-run '--list --stdin-prices'`)).exitCode).toBe(2);
    expect((await both('sudo crunch-run --list --version')).exitCode).toBe(0);
  });

  it('reports ready on the first successful --list and busy changes', async () => {
    const t = await booted({ plan: () => ({ runtimeMs: 10_000, outcome: 'complete' }) });
    const t0 = t.engine.now();
    await t.run('crunch-run --list');
    await t.run('crunch-run --list');
    await t.run(DETACH, CONFIG);
    await t.advance(20_000);
    expect(t.events).toEqual([`ready@${t0 + 5}`, `busy 1@${t0 + 15}`, `started ${UUID}@${t0 + 15}`, `busy 0@${t0 + 11_015}`]);
  });
});

describe('SimulatedVm crunch-run --kill', () => {
  it('exits 0 when there is no such container', async () => {
    const t = await booted();
    expect((await t.run(`crunch-run --kill 15 ${UUID}`)).exitCode).toBe(0);
  });

  it('stops a live container: exit 0 once it died, Cancelled in the world', async () => {
    const t = await booted({ user: 'crunch', behavior: { crunchRun: { killDelayMs: 300 } } });
    await t.run(`sudo ${DETACH}`, CONFIG);
    await t.advance(2000);
    const start = t.engine.now();
    const r = await t.run(`sudo crunch-run --kill 15 ${UUID}`);
    expect(r.exitCode).toBe(0);
    expect(t.engine.now() - start).toBe(305);
    expect(t.world.calls.at(-1)).toMatchObject({ kind: 'cancelled', uuid: UUID });
    expect((await t.run('sudo crunch-run --list')).stdout).toBe('');
  });

  it('exits 1 after 1 s when the process outlives the wait, and it dies later', async () => {
    const t = await booted({ behavior: { crunchRun: { killDelayMs: 5000 } } });
    await t.run(DETACH, CONFIG);
    const start = t.engine.now();
    const r = await t.run(`crunch-run --kill 15 ${UUID}`);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('still alive');
    expect(t.engine.now() - start).toBe(1005);
    await t.advance(5000);
    expect((await t.run('crunch-run --list')).stdout).toBe('');
  });

  it('never kills a hung crunch-run', async () => {
    const t = await booted({ plan: () => ({ runtimeMs: 0, outcome: 'hang' }) });
    await t.run(DETACH, CONFIG);
    await t.advance(10_000);
    for (let i = 0; i < 3; i++) expect((await t.run(`crunch-run --kill 15 ${UUID}`)).exitCode).toBe(1);
    expect((await t.run('crunch-run --list')).stdout).toBe(`${UUID}\n`);
    expect(t.world.calls.map((c) => c.kind)).toEqual(['starting', 'running']);
  });

  it('leaves a stale lock after an abnormal exit when configured', async () => {
    const t = await booted({
      plan: () => ({ runtimeMs: 1000, outcome: 'fail' }),
      behavior: { crunchRun: { staleLockRate: 1, staleLockMs: 60_000 } },
    });
    await t.run(DETACH, CONFIG);
    await t.advance(5000);
    expect((await t.run('crunch-run --list')).stdout).toBe(`${UUID} stale\n`);
    expect((await t.run(DETACH, CONFIG)).exitCode).toBe(1);
    expect((await t.run(`crunch-run --kill 15 ${UUID}`)).exitCode).toBe(0);
    await t.advance(60_000);
    expect((await t.run('crunch-run --list')).stdout).toBe('');
  });
});

describe('SimulatedVm failures', () => {
  it('halts: commands in flight and later fail, processes die silently', async () => {
    const t = await booted({ plan: () => ({ runtimeMs: 0, outcome: 'hang' }) });
    await t.run(DETACH, CONFIG);
    await t.advance(2000);
    const kill = t.vm.run(`crunch-run --kill 15 ${UUID}`, Buffer.alloc(0));
    await t.advance(100);
    const callsBefore = t.world.calls.length;
    t.vm.halt('instance died');
    await expect(kill).rejects.toBeInstanceOf(VmUnreachableError);
    await expect(t.vm.run('true', Buffer.alloc(0))).rejects.toBeInstanceOf(VmUnreachableError);
    await t.advance(100_000);
    expect(t.world.calls.length).toBe(callsBefore);
    expect(t.vm.liveProcesses()).toBe(0);
  });

  it('is unreachable during a partition while its processes keep running', async () => {
    const t = await booted({ plan: () => ({ runtimeMs: 30_000, outcome: 'complete' }) });
    await t.run(DETACH, CONFIG);
    t.vm.partition(t.engine.now() + 10_000);
    await expect(t.vm.run('true', Buffer.alloc(0))).rejects.toBeInstanceOf(VmUnreachableError);
    await t.advance(10_000);
    expect((await t.run('crunch-run --list')).stdout).toBe(`${UUID}\n`);
    await t.advance(30_000);
    expect(t.world.calls.at(-1)).toMatchObject({ kind: 'finished', uuid: UUID });
  });
});
