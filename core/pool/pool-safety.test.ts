import { describe, it, expect } from 'vitest';
import { TransientError } from '../ports/errors.js';
import type { CloudVMsConfig } from '../config/cluster-config.js';
import { advance, container, createIdle, harness, instanceType, RecordingMetrics, started, stateOf, viewOf } from '../../test/fakes/pool-harness.js';

const type1 = instanceType('type1');
const LONG_IDLE: Partial<CloudVMsConfig> = { TimeoutIdle: 3_600_000, MaxConcurrentInstanceCreateOps: 0 };

describe('worker pool: sync, safety, timeouts', () => {
  it('a VM that vanishes is forgotten at the next sync, with its containers and no placeholder', async () => {
    const metrics = new RecordingMetrics();
    const h = harness([type1], LONG_IDLE);
    const pool = await started(h, h.newPool({ metrics }));
    const [a] = await createIdle(h, pool, [type1]);
    const ctr = container();
    pool.startContainer(a!, ctr);
    await advance(h.engine, 1);
    h.cloud.vanish(a!);
    await advance(h.engine, 60_000);
    expect(pool.snapshot().instances).toEqual([]);
    expect(pool.snapshot().running.has(ctr.uuid)).toBe(false);
    expect(metrics.value('instances_disappeared', { state: 'running' })).toBe(1);
    pool.stop();
  });

  it('never lists, probes, tags or destroys VMs without our instance-set id, even from a sloppy driver', async () => {
    const h = harness([type1], { MaxConcurrentInstanceCreateOps: 0 }, { ignoreFilter: true });
    h.cloud.addVm('type1', { ArvadosInstanceSetID: 'someone-else', ArvadosInstanceType: 'type1', ArvadosIdleBehavior: 'run' }, { foreign: true });
    h.cloud.addVm('type1', {}, { foreign: true });
    h.cloud.addVm('type1', { ArvadosInstanceType: 'type1' }, { foreign: true });
    const pool = await started(h);
    expect(pool.snapshot().instances).toEqual([]);
    pool.create(type1);
    await advance(h.engine, 600_000);
    expect(h.cloud.foreignTouches).toEqual([]);
    expect(h.shell.foreignCommands).toEqual([]);
    expect(h.cloud.liveVms().filter((v) => !v.foreign)).toEqual([]);
    expect(h.cloud.liveVms()).toHaveLength(3);
    pool.stop();
  });

  it('keeps a VM created while a listing was in flight, though that listing does not show it', async () => {
    const h = harness([type1], LONG_IDLE, { listLatencyMs: 5_000 });
    const pool = h.newPool();
    pool.start();
    await advance(h.engine, 5_001);
    await pool.whenLoaded();
    await advance(h.engine, 60_000); // the second listing is now in flight
    expect(pool.create(type1)).toBe(true);
    await advance(h.engine, 1);
    const id = h.cloud.liveVms()[0]!.id;
    await advance(h.engine, 5_000);
    expect(h.cloud.calls.list).toBe(2);
    expect(viewOf(pool, id)).toBeDefined();
    await advance(h.engine, 70_000);
    expect(stateOf(pool, id)).toBe('idle');
    pool.stop();
  });

  it('retries destroy while the VM is still listed after TimeoutShutdown', async () => {
    const h = harness([type1], { SyncInterval: 30_000 });
    const pool = await started(h);
    const [a] = await createIdle(h, pool, [type1]);
    h.cloud.failNext('destroy', new TransientError('destroying: 500'));
    pool.killInstance(a!, 'test');
    await advance(h.engine, 31_000);
    expect(h.cloud.calls.destroy).toEqual([a, a]);
    await advance(h.engine, 30_000);
    expect(pool.snapshot().instances).toEqual([]);
    pool.stop();
  });

  it('refuses a container whose uuid is malformed, with a logged error and no command', async () => {
    const h = harness([type1], LONG_IDLE);
    const pool = await started(h);
    const [a] = await createIdle(h, pool, [type1]);
    const before = h.shell.log.length;
    expect(pool.startContainer(a!, container("zzzzz-dz642-0000'; reboot; '"))).toBe(false);
    expect(pool.startContainer(a!, container('zzzzz-dz642-00000000000000$'))).toBe(false);
    expect(h.shell.log.length).toBe(before);
    expect(h.logger.lines.filter((l) => l.level === 'error' && l.msg.startsWith('refusing to start container'))).toHaveLength(2);
    pool.stop();
  });

  it('starts crunch-run detached with the config on stdin, sudo for non-root users', async () => {
    const h = harness([type1], LONG_IDLE, { remoteUser: 'admin' });
    const pool = await started(h);
    const [a] = await createIdle(h, pool, [type1]);
    const ctr = container();
    pool.startContainer(a!, ctr);
    await advance(h.engine, 1);
    const start = h.shell.log.find((r) => r.command.includes('--detach'))!;
    expect(start.command).toMatch(new RegExp(`^sudo /tmp/arvados-crunch-run/crunch-run~[0-9a-f]{32} --detach --stdin-config '--runtime-engine=docker' '${ctr.uuid}'$`));
    const cfg = JSON.parse(start.stdin!.toString()) as { Env: Record<string, string>; KeepBuffers: number; EC2SpotCheck: boolean };
    expect(cfg.Env['GatewayAddress']).toBe(`${h.cloud.vms.get(a!)!.address}:0`);
    expect(cfg.KeepBuffers).toBe(2);
    expect(cfg.EC2SpotCheck).toBe(false);
    expect(h.shell.commands(a).filter((c) => c.includes('cat >"$dstfile"'))).toHaveLength(1);
    pool.stop();
  });

  it('several containers per VM up to MaxRunningContainersPerInstance; never one container twice', async () => {
    const h = harness([type1], { ...LONG_IDLE, MaxRunningContainersPerInstance: 2 });
    const pool = await started(h);
    const [a, b] = await createIdle(h, pool, [type1, type1]);
    const c1 = container();
    expect(pool.startContainer(a!, c1)).toBe(true);
    expect(pool.startContainer(b!, c1)).toBe(false);
    expect(pool.startContainer(a!, container())).toBe(true);
    expect(pool.startContainer(a!, container())).toBe(false);
    expect(viewOf(pool, a!)!.runningContainerUuids).toHaveLength(2);
    pool.stop();
  });

  it('hold suspends idle, probe and broken shutdowns', async () => {
    const h = harness([type1], { MaxConcurrentInstanceCreateOps: 0, TimeoutProbe: 60_000 });
    const pool = await started(h);
    const [a] = await createIdle(h, pool, [type1]);
    pool.setIdleBehavior(a!, 'hold');
    h.shell.when(/--list/, { exit: 1, stderr: 'boom' }, 1000);
    await advance(h.engine, 600_000);
    expect(stateOf(pool, a!)).toBe('idle');
    expect(pool.shutdown(a!)).toBe(false);
    pool.setIdleBehavior(a!, 'run');
    await advance(h.engine, 11_000);
    expect(stateOf(pool, a!)).toBe('shutdown');
    pool.stop();
  });

  it('a hung command times out instead of blocking the worker forever', async () => {
    const h = harness([type1], { ...LONG_IDLE, TimeoutProbe: 120_000 });
    const pool = await started(h, h.newPool({ commandTimeoutMs: 30_000 }));
    const [a] = await createIdle(h, pool, [type1]);
    h.shell.when(/--list/, 'hang', 1000);
    await advance(h.engine, 100_000);
    const lists = h.shell.log.filter((r) => r.vm === a && r.command.endsWith('--list')).length;
    expect(lists).toBeGreaterThan(2);
    await advance(h.engine, 60_000);
    expect(stateOf(pool, a!)).toBe('shutdown');
    pool.stop();
  });

  it('a VM that never boots is shut down after TimeoutBooting', async () => {
    const h = harness([type1], { MaxConcurrentInstanceCreateOps: 0 }, { bootDelayMs: 3_600_000 });
    const pool = await started(h);
    pool.create(type1);
    await advance(h.engine, 590_000);
    expect(pool.snapshot().workerCounts.booting).toBe(1);
    await advance(h.engine, 20_000);
    expect(h.cloud.calls.destroy).toHaveLength(1);
    expect(h.logger.lines.some((l) => l.msg === 'worker state changed' && l.fields['Reason'] === 'boot timeout')).toBe(true);
    pool.stop();
  });

  it('paces probes by MaxProbesPerSecond', async () => {
    const h = harness([type1], { ...LONG_IDLE, MaxProbesPerSecond: 2 });
    const pool = await started(h);
    for (let i = 0; i < 6; i++) pool.create(type1);
    await advance(h.engine, 1);
    await advance(h.engine, 14_000);
    const boots = h.shell.log.filter((r) => r.command === 'systemctl is-system-running').map((r) => r.at);
    expect(boots).toHaveLength(6);
    for (let i = 1; i < boots.length; i++) expect(boots[i]! - boots[i - 1]!).toBe(500);
    pool.stop();
  });

  it('view() shows workers and pending creates with the management API field names', async () => {
    const h = harness([type1], LONG_IDLE);
    const pool = await started(h);
    const [a] = await createIdle(h, pool, [type1]);
    const release = h.cloud.pauseCreates();
    pool.create(type1);
    const v = pool.view();
    expect(v[0]).toEqual({
      instance: '',
      address: '',
      price: 0.1,
      arvados_instance_type: 'type1',
      provider_instance_type: 'type1',
      last_container_uuid: '',
      last_busy: '0001-01-01T00:00:00Z',
      running_container_uuids: null,
      worker_state: 'booting',
      idle_behavior: 'run',
    });
    expect(v[1]).toMatchObject({ instance: a, worker_state: 'idle', idle_behavior: 'run', running_container_uuids: [] });
    release();
    pool.stop();
  });

  it('coalesces notifications: many changes in one instant, one call', async () => {
    const h = harness([type1], { MaxConcurrentInstanceCreateOps: 0 });
    const pool = await started(h);
    let n = 0;
    const unsubscribe = pool.subscribe(() => n++);
    const release = h.cloud.pauseCreates();
    for (let i = 0; i < 5; i++) pool.create(type1);
    expect(n).toBe(0);
    await advance(h.engine, 0);
    expect(n).toBe(1);
    unsubscribe();
    release();
    await advance(h.engine, 1);
    expect(n).toBe(1);
    pool.stop();
  });
});
