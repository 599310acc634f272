import { describe, it, expect } from 'vitest';
import { CapacityError, QuotaError, RateLimitError, TransientError, NotFoundError } from '../ports/errors.js';
import type { CloudVMsConfig } from '../config/cluster-config.js';
import { advance, clusterConfig, container, createIdle, harness, instanceType, INSTANCE_SET_ID, RecordingMetrics, started, stateOf, viewOf } from '../../test/fakes/pool-harness.js';
import type { Pool } from './pool.js';

const type1 = instanceType('type1');
const type2 = instanceType('type2', { price: 0.2 });
const type4 = instanceType('type4', { price: 0.4 });
const LONG_IDLE: Partial<CloudVMsConfig> = { TimeoutIdle: 3_600_000, MaxConcurrentInstanceCreateOps: 0 };

describe('worker pool (Arvados pool_test.go)', () => {
  it('TestResumeAfterRestart: hold survives, unconfigured type drains, containers are adopted', async () => {
    const h = harness([type1, type2, type4], LONG_IDLE);
    const pool = await started(h);
    const ids = await createIdle(h, pool, [type1, type1, type2, type4]);
    const byType = (p: Pool, name: string) => p.snapshot().instances.filter((i) => i.instanceType.name === name);
    const held = byType(pool, 'type2')[0]!.instanceId;
    pool.setIdleBehavior(held, 'hold');
    const busyId = byType(pool, 'type1')[0]!.instanceId;
    const ctr = container();
    expect(pool.startContainer(busyId, ctr)).toBe(true);
    await advance(h.engine, 1_000);
    expect(h.cloud.vms.get(held)!.tags['ArvadosIdleBehavior']).toBe('hold');
    pool.stop();

    const config2 = clusterConfig([type1, type2], LONG_IDLE);
    const pool2 = await started(h, h.newPool({ config: config2 }));
    const snap = pool2.snapshot();
    expect(snap.instances.map((i) => i.instanceId).sort()).toEqual([...ids].sort());
    expect(snap.workerCounts.unknown).toBe(4);
    expect(viewOf(pool2, held)!.idleBehavior).toBe('hold');
    const t4 = byType(pool2, 'type4')[0]!;
    expect(t4.idleBehavior).toBe('drain');
    expect(t4.instanceType.providerType).toBe('');
    for (const i of byType(pool2, 'type1')) expect(i.idleBehavior).toBe('run');
    expect(h.cloud.vms.get(t4.instanceId)!.tags['ArvadosIdleBehavior']).toBe('drain');

    await advance(h.engine, 11_000);
    expect(stateOf(pool2, held)).toBe('idle');
    expect(stateOf(pool2, busyId)).toBe('running');
    expect(pool2.snapshot().running.get(ctr.uuid)).toBe(0);
    await advance(h.engine, 11_000);
    // The drained unconfigured-type VM is shut down once it is idle; the held one never.
    expect(h.cloud.calls.destroy).toEqual([t4.instanceId]);
    await advance(h.engine, 3_700_000);
    expect(h.cloud.vms.has(held)).toBe(true);
    pool2.stop();
  });

  it('TestDrain: StartContainer succeeds on an idle worker only with IdleBehavior run', async () => {
    const h = harness([type1], LONG_IDLE);
    const pool = await started(h);
    const [a, b] = await createIdle(h, pool, [type1, type1]);
    expect(pool.startContainer(a!, container())).toBe(true);
    pool.setIdleBehavior(b!, 'hold');
    expect(pool.startContainer(b!, container())).toBe(false);
    pool.setIdleBehavior(b!, 'drain');
    expect(pool.startContainer(b!, container())).toBe(false);
    expect(stateOf(pool, b!)).toBe('shutdown');
    expect(() => pool.setIdleBehavior('i-nope', 'run')).toThrow(NotFoundError);
    pool.stop();
  });

  it('TestNodeCreateThrottle: MaxConcurrentInstanceCreateOps 1, then 2, then 0 (unlimited)', async () => {
    for (const [limit, allowed] of [[1, 1], [2, 2], [0, 5]] as const) {
      const h = harness([type1], { MaxConcurrentInstanceCreateOps: limit });
      const pool = await started(h);
      const release = h.cloud.pauseCreates();
      let ok = 0;
      for (let i = 0; i < 5; i++) if (pool.create(type1)) ok++;
      expect(ok).toBe(allowed);
      const snap = pool.snapshot();
      expect(snap.instances.filter((v) => v.instanceId === '')).toHaveLength(allowed);
      if (limit > 0) expect(snap.createBlocked).toBe(true);
      release();
      await advance(h.engine, 1);
      if (limit === 1) {
        // The 5 s throttle outlives the create that armed it.
        expect(pool.create(type1)).toBe(false);
        await advance(h.engine, 5_000);
        expect(pool.create(type1)).toBe(true);
      }
      pool.stop();
    }
  });

  it('TestCreateUnallocShutdown: pending creates, init command, hold refuses Shutdown, drain shuts down, all gone', async () => {
    const h = harness([type1, type2], { MaxConcurrentInstanceCreateOps: 0, InstanceInitCommand: 'echo custom-init' }, { bootDelayMs: 3_600_000 });
    const pool = await started(h);
    let n1 = 0;
    let n2 = 0;
    pool.subscribe(() => n1++);
    pool.subscribe(() => n2++);
    const release = h.cloud.pauseCreates();
    expect(pool.create(type1)).toBe(true);
    expect(pool.create(type2)).toBe(true);
    expect(pool.create(type2)).toBe(true);
    expect(pool.snapshot().instances.map((i) => [i.instanceId, i.instanceType.name, i.state])).toEqual([
      ['', 'type1', 'booting'],
      ['', 'type2', 'booting'],
      ['', 'type2', 'booting'],
    ]);
    release();
    await advance(h.engine, 1);
    expect(n1).toBeGreaterThan(0);
    expect(n2).toBe(n1);
    for (const req of h.cloud.calls.create) {
      const secret = req.tags['ArvadosInstanceSecret']!;
      expect(req.initCommand).toBe(`umask 0177 && echo -n "${secret}" >/var/run/arvados-instance-secret\necho custom-init`);
      expect(req.tags['ArvadosInstanceSetID']).toBe(INSTANCE_SET_ID);
      expect(req.tags['ArvadosIdleBehavior']).toBe('run');
      expect(req.imageId).toBe('ami-test');
      expect(req.publicKey).toBe('ssh-ed25519 AAAA dispatcher');
    }
    const views = pool.snapshot().instances;
    const t1 = views.find((v) => v.instanceType.name === 'type1')!.instanceId;
    pool.setIdleBehavior(t1, 'hold');
    expect(pool.shutdown(t1)).toBe(false);
    expect(viewOf(pool, t1)!.idleBehavior).toBe('hold');
    for (const v of views.filter((x) => x.instanceType.name === 'type2')) {
      expect(v.state).toBe('booting');
      expect(pool.shutdown(v.instanceId)).toBe(true);
    }
    await advance(h.engine, 61_000);
    expect(pool.snapshot().instances.map((i) => i.instanceId)).toEqual([t1]);
    pool.setIdleBehavior(t1, 'run');
    pool.setIdleBehavior(t1, 'drain');
    expect(stateOf(pool, t1)).toBe('shutdown');
    await advance(h.engine, 61_000);
    expect(pool.snapshot().instances).toEqual([]);
    expect(h.cloud.liveVms()).toEqual([]);
    pool.stop();
  });

  it('TestInstanceQuotaGroup: capacity errors block a quota group or one type', async () => {
    const A1 = instanceType('a1', { providerType: 'A1' });
    const A2 = instanceType('a2', { providerType: 'A2' });
    const A1p = instanceType('a1p', { providerType: 'A1', preemptible: true });
    const B3 = instanceType('b3', { providerType: 'B3' });
    const B3p = instanceType('b3p', { providerType: 'B3', preemptible: true });
    const B4 = instanceType('b4', { providerType: 'B4' });
    const B4p = instanceType('b4p', { providerType: 'B4', preemptible: true });
    const h = harness([A1, A2, A1p, B3, B3p, B4, B4p], { MaxConcurrentInstanceCreateOps: 0 });
    const pool = await started(h);
    h.cloud.failNext('create', new CapacityError('creating: VcpuLimitExceeded', { scope: 'quota-group', quotaGroup: 'a' }));
    expect(pool.create(A1)).toBe(true);
    await advance(h.engine, 1);
    expect([A1, A2, A1p].map((t) => pool.atCapacity(t))).toEqual([true, true, false]);
    h.cloud.failNext('create', new CapacityError('creating: InsufficientInstanceCapacity', { scope: 'type', providerType: 'B4', preemptible: true }));
    expect(pool.create(B4p)).toBe(true);
    await advance(h.engine, 1);
    const snap = pool.snapshot();
    expect([B4p, B4, B3, B3p].map((t) => snap.atCapacity(t))).toEqual([true, false, false, false]);
    expect([A1, A2, A1p, B3, B3p, B4, B4p].map((t) => pool.create(t))).toEqual([false, false, true, true, true, true, false]);
    await advance(h.engine, 60_000);
    expect(pool.atCapacity(A1) || pool.atCapacity(B4p)).toBe(false);
    pool.stop();
  });

  it('capacity errors without a scope block every type for a minute', async () => {
    const h = harness([type1, type2], { MaxConcurrentInstanceCreateOps: 0 });
    const pool = await started(h);
    h.cloud.failNext('create', new CapacityError('creating: no capacity', { scope: 'all' }));
    pool.create(type1);
    await advance(h.engine, 1);
    expect(pool.create(type2)).toBe(false);
    await advance(h.engine, 60_000);
    expect(pool.create(type2)).toBe(true);
    pool.stop();
  });

  it('quota errors: at quota until fewer instances, or for a minute when there are none', async () => {
    const h = harness([type1], { MaxConcurrentInstanceCreateOps: 0, TimeoutIdle: 120_000 });
    const pool = await started(h);
    let notes = 0;
    pool.subscribe(() => notes++);
    h.cloud.failNext('create', new QuotaError('creating: InstanceLimitExceeded'));
    pool.create(type1);
    await advance(h.engine, 1);
    expect(pool.snapshot().atQuota).toBe(true);
    notes = 0;
    await advance(h.engine, 60_000);
    expect(notes).toBeGreaterThan(0);
    expect(pool.snapshot().atQuota).toBe(false);

    const [a] = await createIdle(h, pool, [type1, type1]);
    h.cloud.failNext('create', new QuotaError('creating: InstanceLimitExceeded'));
    pool.create(type1);
    await advance(h.engine, 1);
    expect(pool.atQuota()).toBe(true);
    await advance(h.engine, 120_000);
    expect(pool.atQuota()).toBe(true); // still two VMs
    pool.killInstance(a!, 'test');
    await advance(h.engine, 60_000);
    expect(pool.atQuota()).toBe(false);
    pool.stop();
  });

  it('MaxInstances counts workers, pending creates and shutdown workers', async () => {
    const h = harness([type1], { MaxConcurrentInstanceCreateOps: 0, MaxInstances: 2, TimeoutIdle: 3_600_000 });
    const pool = await started(h);
    const [a] = await createIdle(h, pool, [type1, type1]);
    expect(pool.snapshot().atQuota).toBe(true);
    expect(pool.create(type1)).toBe(false);
    pool.killInstance(a!, 'test');
    h.cloud.failNext('destroy', new TransientError('destroying: network'));
    expect(pool.snapshot().atQuota).toBe(true);
    pool.stop();
  });

  it('rate-limit errors pause creates until the retry time', async () => {
    const h = harness([type1], { MaxConcurrentInstanceCreateOps: 0 });
    const pool = await started(h);
    h.cloud.failNext('create', new RateLimitError('creating: RequestLimitExceeded', 30_000));
    pool.create(type1);
    await advance(h.engine, 1);
    expect(pool.snapshot().createBlocked).toBe(true);
    expect(pool.create(type1)).toBe(false);
    await advance(h.engine, 29_998);
    expect(pool.create(type1)).toBe(false);
    await advance(h.engine, 2);
    expect(pool.create(type1)).toBe(true);
    pool.stop();
  });

  it('rate-limit errors pause listing until the retry time', async () => {
    const h = harness([type1], { SyncInterval: 10_000 });
    const pool = await started(h);
    expect(h.cloud.calls.list).toBe(1);
    h.cloud.failNext('list', new RateLimitError('listing: throttled', 35_000));
    await advance(h.engine, 10_000);
    expect(h.cloud.calls.list).toBe(2);
    await advance(h.engine, 30_000);
    expect(h.cloud.calls.list).toBe(2);
    await advance(h.engine, 10_000);
    expect(h.cloud.calls.list).toBe(3);
    pool.stop();
  });

  it('kill escalation: SIGTERM at once and every TimeoutSignal until TimeoutTERM, then drain and shut down', async () => {
    const h = harness([type1], LONG_IDLE);
    const pool = await started(h);
    const [a, b] = await createIdle(h, pool, [type1, type1]);
    const killable = container();
    const stubborn = container();
    pool.startContainer(a!, killable);
    pool.startContainer(b!, stubborn);
    await advance(h.engine, 11_000);
    h.cloud.vms.get(b!)!.processes.get(stubborn.uuid)!.unkillable = true;
    expect(pool.killContainer('zzzzz-dz642-999999999999999', 'x')).toBe(false);

    const t0 = h.engine.now();
    expect(pool.killContainer(killable.uuid, 'cancelled')).toBe(true);
    await advance(h.engine, 1);
    expect(pool.snapshot().running.get(killable.uuid)).toBeGreaterThan(0);
    expect(stateOf(pool, a!)).toBe('idle');

    expect(pool.killContainer(stubborn.uuid, 'cancelled')).toBe(true);
    expect(pool.killContainer(stubborn.uuid, 'again')).toBe(true);
    await advance(h.engine, 124_000);
    expect(stateOf(pool, b!)).toBe('running');
    expect(viewOf(pool, b!)!.idleBehavior).toBe('run');
    await advance(h.engine, 2_000);
    const kills = h.shell.log.filter((r) => r.vm === b && r.command.includes('--kill 15'));
    expect(kills[0]!.at - t0).toBeLessThan(1_000);
    // t = 0, 5, ..., 120 s; the attempt at 125 s is past TimeoutTERM and gives up instead.
    expect(kills.length).toBe(25);
    expect(kills[1]!.at - kills[0]!.at).toBe(5_000);
    expect(viewOf(pool, b!)!.idleBehavior).toBe('drain');
    expect(stateOf(pool, b!)).toBe('shutdown');
    expect(h.shell.commands().some((c) => c.includes('--kill 9'))).toBe(false);
    pool.stop();
  });

  it('broken node: a broken marker drains the worker; idle ones shut down at once', async () => {
    const metrics = new RecordingMetrics();
    const h = harness([type1], LONG_IDLE);
    const pool = await started(h, h.newPool({ metrics }));
    const [idle, busy] = await createIdle(h, pool, [type1, type1]);
    const ctr = container();
    pool.startContainer(busy!, ctr);
    await advance(h.engine, 1);
    h.cloud.vms.get(idle!)!.broken = true;
    h.cloud.vms.get(busy!)!.broken = true;
    await advance(h.engine, 11_000);
    expect(stateOf(pool, idle!)).toBe('shutdown');
    expect(viewOf(pool, busy!)!.idleBehavior).toBe('drain');
    expect(stateOf(pool, busy!)).toBe('running');
    h.cloud.vms.get(busy!)!.processes.delete(ctr.uuid);
    await advance(h.engine, 21_000);
    expect(stateOf(pool, busy!)).toBe('shutdown');
    // Both booted successfully first, so the outcome was already reported.
    expect(metrics.value('boot_outcomes', { outcome: 'success' })).toBe(2);
    pool.stop();
  });

  it('broken node while booting: drain and boot outcome failure', async () => {
    const metrics = new RecordingMetrics();
    const h = harness([type1], LONG_IDLE);
    const pool = await started(h, h.newPool({ metrics }));
    pool.create(type1);
    await advance(h.engine, 1);
    const vm = h.cloud.liveVms()[0]!;
    vm.broken = true;
    await advance(h.engine, 11_000);
    expect(stateOf(pool, vm.id)).toBe('shutdown');
    expect(metrics.value('boot_outcomes', { outcome: 'failure' })).toBe(1);
    pool.stop();
  });

  it('stale lock: a stale line lasting past TimeoutStaleRunLock drains the worker', async () => {
    const h = harness([type1], { ...LONG_IDLE, TimeoutStaleRunLock: 15_000 });
    const pool = await started(h);
    const [a] = await createIdle(h, pool, [type1]);
    h.cloud.vms.get(a!)!.staleLocks.add('zzzzz-dz642-000000000000777');
    await advance(h.engine, 10_000);
    expect(viewOf(pool, a!)!.idleBehavior).toBe('run');
    await advance(h.engine, 10_000);
    expect(viewOf(pool, a!)!.idleBehavior).toBe('run');
    await advance(h.engine, 10_000);
    expect(viewOf(pool, a!)!.idleBehavior).toBe('drain');
    expect(stateOf(pool, a!)).toBe('shutdown');
    pool.stop();
  });

  it('a stale line that clears resets the stale clock', async () => {
    const h = harness([type1], { ...LONG_IDLE, TimeoutStaleRunLock: 15_000 });
    const pool = await started(h);
    const [a] = await createIdle(h, pool, [type1]);
    const vm = h.cloud.vms.get(a!)!;
    vm.staleLocks.add('zzzzz-dz642-000000000000777');
    await advance(h.engine, 10_000);
    vm.staleLocks.clear();
    await advance(h.engine, 10_000);
    vm.staleLocks.add('zzzzz-dz642-000000000000777');
    await advance(h.engine, 20_000);
    expect(viewOf(pool, a!)!.idleBehavior).toBe('run');
    pool.stop();
  });
});
