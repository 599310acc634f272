// One test per behaviour of the reference's scheduler/run_queue_test.go, named after it,
// on the virtual clock with the fake controller (behind the real ContainerQueue) and the
// fake pool.
import { describe, expect, it } from 'vitest';
import { GIB, MIB, containerUuid as u, instanceType, makeContainer } from '../../test/fakes/sched-fixtures.js';
import { SchedHarness } from '../../test/fakes/sched-harness.js';

const types = (ids: readonly number[]) => ids.map((i) => instanceType(i));
const ALL = types(Array.from({ length: 16 }, (_, i) => i + 1));
const NO_TYPE1 = types(Array.from({ length: 15 }, (_, i) => i + 2));
const T = (i: number) => instanceType(i);

function locked(i: number, o: Parameters<typeof makeContainer>[1] = {}) {
  return makeContainer(i, { state: 'Locked', priority: i, ...o });
}

async function harness(o: ConstructorParameters<typeof SchedHarness>[0] = {}): Promise<SchedHarness> {
  const h = new SchedHarness({ types: ALL, ...o });
  return h;
}

function names(ts: readonly { name: string }[]): string[] {
  return ts.map((t) => t.name);
}

describe('run queue (reference run_queue_test.go)', () => {
  it('TestUseIdleWorkers: the top container starts on the only eligible idle instance, the others get new ones', async () => {
    const h = await harness({ ctrs: [1, 2, 3, 4].map((i) => locked(i)) });
    h.pool.addWorker(T(1), 'idle');
    h.pool.addWorker(T(2), 'idle');
    h.pool.addWorker(T(2), 'idle');
    await h.update();
    await h.pass();
    expect(names(h.pool.creates)).toEqual(['type1', 'type1', 'type1']);
    expect(h.pool.starts).toEqual([u(4)]);
    expect([...h.pool.running.keys()]).toEqual([u(4)]);
  });

  it('TestPackContainers_NewInstance: four small containers pack two to a new type2', async () => {
    const h = await harness({ types: NO_TYPE1, containers: { MaximumPriceFactor: 1.5 }, ctrs: [1, 2, 3, 4].map((i) => locked(i)) });
    await h.update();
    await h.pass();
    expect(names(h.pool.creates)).toEqual(['type2', 'type2']);
    expect(h.pool.starts).toEqual([]);
  });

  it('TestPackContainers_IdleInstance: an idle type3 within the price factor takes three, the fourth gets a type2', async () => {
    const h = await harness({ types: NO_TYPE1, containers: { MaximumPriceFactor: 1.5 }, ctrs: [1, 2, 3, 4].map((i) => locked(i)) });
    h.pool.addWorker(T(3), 'idle');
    await h.update();
    await h.pass();
    expect(h.pool.starts).toEqual([u(4), u(3), u(2)]);
    expect(names(h.pool.creates)).toEqual(['type2']);
  });

  it('TestPackContainers_IdleInstance_TooBig: an idle type4 above the price factor is not used', async () => {
    const h = await harness({ types: NO_TYPE1, containers: { MaximumPriceFactor: 1.5 }, ctrs: [1, 2, 3, 4].map((i) => locked(i)) });
    h.pool.addWorker(T(4), 'idle');
    await h.update();
    await h.pass();
    expect(h.pool.starts).toEqual([]);
    expect(names(h.pool.creates)).toEqual(['type2', 'type2']);
  });

  it('TestPackContainers_SpareResources: a type3 running one container takes two more', async () => {
    const h = await harness({
      types: NO_TYPE1,
      containers: { MaximumPriceFactor: 1.5 },
      ctrs: [makeContainer(5, { state: 'Running', priority: 5 }), ...[1, 2, 3, 4].map((i) => locked(i))],
    });
    h.pool.addWorker(T(3), 'running', [u(5)]);
    await h.update();
    await h.pass();
    expect(h.pool.starts).toEqual([u(4), u(3)]);
    expect(names(h.pool.creates)).toEqual(['type2']);
  });

  it('TestPackContainers_IdleBehaviorHold: an idle instance on hold is not used', async () => {
    const h = await harness({ types: NO_TYPE1, containers: { MaximumPriceFactor: 1.5 }, ctrs: [1, 2, 3, 4].map((i) => locked(i)) });
    h.pool.addWorker(T(3), 'idle', [], 'hold');
    await h.update();
    await h.pass();
    expect(h.pool.starts).toEqual([]);
    expect(names(h.pool.creates)).toEqual(['type2', 'type2']);
  });

  it('TestPackContainers_DisabledInConfig: MaxRunningContainersPerInstance=1 means one container per instance', async () => {
    const h = await harness({
      types: NO_TYPE1,
      containers: { MaximumPriceFactor: 1.5 },
      cloudVMs: { MaxRunningContainersPerInstance: 1 },
      ctrs: [1, 2, 3, 4].map((i) => locked(i)),
    });
    h.pool.addWorker(T(2), 'idle');
    await h.update();
    await h.pass();
    expect(h.pool.starts).toEqual([u(4)]);
    expect(names(h.pool.creates)).toEqual(['type2', 'type2', 'type2']);
  });

  it('TestPackContainers_LimitedInConfig: MaxRunningContainersPerInstance=2 on type8 needs two instances for four', async () => {
    const h = await harness({
      types: types([8, 16]),
      containers: { MaximumPriceFactor: 1.5 },
      cloudVMs: { MaxRunningContainersPerInstance: 2 },
      ctrs: [1, 2, 3, 4].map((i) => locked(i)),
    });
    await h.update();
    await h.pass();
    expect(names(h.pool.creates)).toEqual(['type8', 'type8']);
  });

  it('TestPackContainers_InstanceStateUnknown: an unknown instance counts as capacity; nothing starts until one is idle', async () => {
    const h = await harness({ types: NO_TYPE1, containers: { MaximumPriceFactor: 1.5 }, ctrs: [1, 2, 3, 4].map((i) => locked(i)) });
    h.pool.addWorker(T(2), 'unknown');
    await h.update();
    await h.pass();
    expect(names(h.pool.creates)).toEqual(['type2']);
    expect(h.pool.starts).toEqual([]);
    expect(h.scheduler.containers().map((c) => c.schedulingStatus)).toEqual(
      Array(4).fill('Waiting for a type2 instance to boot and be ready to accept work.'),
    );
    h.pool.bootAll();
    await h.pass();
    expect(h.pool.starts).toEqual([u(4), u(3)]);
    expect(h.pool.workers[1]!.running).toEqual([u(4), u(3)]);
  });

  it('TestPackContainers_Resources: containers needing type8 for RAM, VCPUs or scratch share one; 0-VCPU ones share a type1', async () => {
    const h = await harness({
      types: types([1, 2, 4, 8, 16]),
      containers: { MaximumPriceFactor: 1.5 },
      ctrs: [
        ...[10, 9, 8, 7].map((i) => locked(i, { vcpus: 0, ram: 128 * MIB })),
        locked(6, { vcpus: 9, ram: 128 * MIB }),
        locked(5, { vcpus: 1, ram: 7 * GIB }),
        locked(4, { vcpus: 5, ram: 128 * MIB }),
        locked(3, { vcpus: 1, ram: 128 * MIB, keepCacheDisk: 5 * GIB }),
      ],
    });
    await h.update();
    await h.pass();
    expect(names(h.pool.creates)).toEqual(['type1', 'type16', 'type8']);
    h.pool.bootAll();
    await h.pass();
    const placed = Object.fromEntries(h.pool.workers.map((w) => [w.type.name, [...w.running].sort()]));
    expect(placed).toEqual({ type1: [u(7), u(8), u(9), u(10)], type16: [u(6)], type8: [u(3), u(4), u(5)] });
  });

  it('TestPackContainers_0VCPUs: 0-VCPU containers share a VCPU, a 2-VCPU container gets a type2 to itself', async () => {
    const h = await harness({
      types: NO_TYPE1,
      ctrs: [
        locked(10, { vcpus: 2, ram: 128 * MIB }),
        locked(9, { vcpus: 1, ram: 128 * MIB }),
        ...[8, 7, 6, 5].map((i) => locked(i, { vcpus: 0, ram: 128 * MIB })),
      ],
    });
    await h.update();
    await h.pass();
    expect(names(h.pool.creates)).toEqual(['type2', 'type2']);
    h.pool.bootAll();
    await h.pass();
    expect(h.pool.workers.map((w) => [...w.running].sort())).toEqual([[u(10)], [u(5), u(6), u(7), u(8), u(9)]]);
  });

  for (const quota of [1, 2]) {
    it(`TestShutdownAtQuota (quota ${quota}): shut down idle instances, keep the next in line locked, unlock the rest`, async () => {
      const h = await harness({
        ctrs: [locked(2, { vcpus: 2, ram: 2 * GIB }), locked(3, { vcpus: 3, ram: 3 * GIB })],
      });
      h.pool.quota = quota;
      const a = h.pool.addWorker(T(2), 'idle');
      const b = h.pool.addWorker(T(2), 'idle');
      await h.update();
      await h.pass();
      await h.pass();
      expect(h.pool.starts).toEqual([]);
      expect(h.pool.creates).toEqual([]);
      expect([...new Set(h.pool.shutdowns)]).toEqual([a.id, b.id]);
      expect(h.controller.stateChanges).toEqual([{ uuid: u(2), from: 'Locked', to: 'Queued' }]);
      expect(h.state(u(3))).toBe('Locked');
    });
  }

  it('TestShutdownAtQuota (quota 3): start on the idle type2, create a type3, no unlocks or shutdowns', async () => {
    const h = await harness({ ctrs: [locked(2, { vcpus: 2, ram: 2 * GIB }), locked(3, { vcpus: 3, ram: 3 * GIB })] });
    h.pool.quota = 3;
    h.pool.addWorker(T(2), 'idle');
    h.pool.addWorker(T(2), 'idle');
    await h.update();
    await h.pass();
    expect(h.pool.starts).toEqual([u(2)]);
    expect(names(h.pool.creates)).toEqual(['type3']);
    expect(h.pool.shutdowns).toEqual([]);
    expect(h.controller.stateChanges).toEqual([]);
  });

  it('TestInstanceCapacity: a type at capacity gets no create and its Queued containers are not locked', async () => {
    const h = await harness({
      ctrs: [
        locked(4, { vcpus: 4, ram: 4 * GIB }),
        locked(3, { vcpus: 4, ram: 4 * GIB }),
        makeContainer(2, { state: 'Queued', priority: 2, vcpus: 4, ram: 4 * GIB }),
        locked(1, { vcpus: 1, ram: GIB }),
      ],
    });
    h.pool.capacity.set('providertype4', 1);
    h.pool.addWorker(T(4), 'idle');
    await h.update();
    await h.pass();
    expect(h.pool.starts).toEqual([u(4)]);
    expect(names(h.pool.creates)).toEqual(['type1']);
    expect(h.controller.stateChanges).toEqual([]);
    expect(h.status(u(3))).toBe(
      'Waiting in queue at position 1.  Cluster is at capacity for all eligible instance types (type4) and cannot start a new instance right now.',
    );
  });

  it('TestIdleIn503QuietPeriod: with maxContainers 3 and 2 running, start one more and touch nothing else', async () => {
    const t503 = 1_000_000_000 - 10_000;
    const h = await harness({
      state: { maxContainers: 3, instancesWithinQuota: 0, last503Seen: t503 },
      ctrs: [
        makeContainer(10, { state: 'Running', priority: 10 }),
        makeContainer(11, { state: 'Running', priority: 10 }),
        locked(2, { priority: 9 }),
        locked(3, { priority: 8 }),
        locked(4, { priority: 7 }),
        locked(5, { priority: 6 }),
      ],
    });
    h.controller.force503(t503);
    h.pool.addWorker(T(1), 'running', [u(10)]);
    h.pool.addWorker(T(1), 'running', [u(11)]);
    h.pool.addWorker(T(1), 'booting');
    h.pool.addWorker(T(1), 'idle');
    await h.update();
    await h.pass();
    expect(h.pool.starts).toEqual([u(2)]);
    expect(h.pool.creates).toEqual([]);
    expect(h.pool.shutdowns).toEqual([]);
    expect(h.controller.stateChanges).toEqual([]);
    expect(h.scheduler.schedulerState.maxContainers).toBe(3);
  });

  it('TestUnlockExcessSupervisors: supervisors beyond the limit that are not running are unlocked; nothing is shut down', async () => {
    const h = await harness({ ctrs: [1, 2, 3, 4, 5, 6].map((i) => locked(i, { supervisor: true })) });
    for (const i of [6, 5, 4, 3]) h.pool.addWorker(T(1), 'running', [u(i)]);
    h.pool.addWorker(T(1), 'booting');
    h.pool.addWorker(T(1), 'idle');
    await h.update();
    await h.pass();
    expect(h.controller.stateChanges).toEqual([
      { uuid: u(2), from: 'Locked', to: 'Queued' },
      { uuid: u(1), from: 'Locked', to: 'Queued' },
    ]);
    expect(h.pool.shutdowns).toEqual([]);
    expect(h.status(u(2))).toBe('Waiting in workflow queue at position 1.  Cluster is at capacity and cannot start any new workflows right now.');
  });

  it('TestExcessSupervisors: only the locked supervisors within the limit start; queued ones are not locked', async () => {
    const h = await harness({
      ctrs: [
        ...[8, 7].map((i) => locked(i, { supervisor: true })),
        ...[1, 2, 3, 4, 5, 6].map((i) => makeContainer(i, { priority: i, supervisor: true })),
      ],
    });
    for (let i = 0; i < 3; i++) h.pool.addWorker(T(1), 'idle');
    await h.update();
    await h.pass();
    expect(h.pool.starts).toEqual([u(8), u(7)]);
    expect(h.pool.shutdowns).toEqual([]);
    expect(h.controller.stateChanges).toEqual([]);
  });

  it('TestEqualPriorityContainers: equal priorities do not flap between lock and unlock', async () => {
    const h = await harness({
      ctrs: Array.from({ length: 8 }, (_, i) => makeContainer(i, { priority: 333, vcpus: 3, ram: 3 * GIB })),
    });
    h.pool.quota = 2;
    h.pool.canCreate = 1;
    h.pool.addWorker(T(3), 'idle');
    h.pool.addWorker(T(3), 'idle');
    await h.update();
    for (let i = 0; i < 30; i++) {
      await h.pass();
      await h.engine.run({ horizon: h.engine.now() + 1 });
    }
    expect(h.pool.shutdowns).toEqual([]);
    expect(h.pool.starts).toHaveLength(2);
    for (const n of h.controller.unlocks.values()) expect(n).toBeLessThanOrEqual(1);
  });

  it('TestStartWhileCreating: start on idle instances now, map to booting ones, create for the rest', async () => {
    const h = await harness({
      ctrs: [
        locked(1),
        locked(2),
        locked(3),
        locked(4, { vcpus: 2, ram: 2 * GIB }),
        locked(5, { vcpus: 2, ram: 2 * GIB }),
        locked(6, { vcpus: 2, ram: 2 * GIB }),
      ],
    });
    h.pool.addWorker(T(1), 'idle');
    h.pool.addWorker(T(1), 'booting');
    h.pool.addWorker(T(2), 'idle');
    h.pool.addWorker(T(2), 'booting');
    await h.update();
    await h.pass();
    expect(names(h.pool.creates)).toEqual(['type2', 'type1']);
    expect(h.pool.starts).toEqual([u(6), u(3)]);
    expect(Object.fromEntries(h.pool.running)).toEqual({ [u(3)]: 0, [u(6)]: 0 });
    expect(h.status(u(5))).toBe('Waiting for a type2 instance to boot and be ready to accept work.');
  });

  it('TestKillNonexistentContainer: a container the pool runs but the queue does not know is killed', async () => {
    const h = await harness({ ctrs: [locked(1)] });
    h.pool.canCreate = 0;
    h.pool.addWorker(T(2), 'running', [u(2)]);
    await h.update();
    expect(h.pool.running.size).toBe(1);
    await h.pass();
    expect(h.pool.running.size).toBe(0);
    expect(h.pool.kills).toContain(u(2));
  });

  it('TestContainersMetrics: allocated-not-started, over-quota and longest-wait gauges', async () => {
    const now = 1_000_000_000;
    const ctr = locked(1, { createdAt: now - 10_000 });

    const a = await harness({ ctrs: [ctr] });
    a.pool.addWorker(T(1), 'booting');
    await a.update();
    await a.pass();
    expect(a.metrics.get('containers_allocated_not_started')).toBe(1);
    expect(a.metrics.get('containers_not_allocated_over_quota')).toBe(0);
    expect(a.metrics.get('containers_longest_wait_time_seconds')).toBe(10);

    const b = await harness({ ctrs: [ctr] });
    b.pool.quota = 0;
    await b.update();
    await b.pass();
    expect(b.metrics.get('containers_allocated_not_started')).toBe(0);
    expect(b.metrics.get('containers_not_allocated_over_quota')).toBe(1);
    expect(b.metrics.get('containers_longest_wait_time_seconds')).toBe(10);

    const c = await harness({ ctrs: [ctr] });
    c.pool.addWorker(T(1), 'idle');
    await c.update();
    await c.pass();
    expect(c.metrics.get('containers_longest_wait_time_seconds')).toBe(0);
  });

  it('TestSkipSupervisors: a supervisor over the limit is skipped, a later non-supervisor still starts', async () => {
    const h = await harness({ ctrs: [locked(1), ...[2, 3, 4].map((i) => locked(i, { supervisor: true }))] });
    for (let i = 0; i < 8; i++) h.pool.addWorker(T(1), 'idle');
    await h.update();
    await h.pass();
    expect(h.pool.starts).toEqual([u(4), u(3), u(1)]);
  });
});
