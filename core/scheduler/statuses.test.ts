// The reference's TestManagementAPI_Containers scenario (arvados-core.md §9.4), replayed
// with the fake pool: the exact scheduling status texts and their queue positions.
import { describe, expect, it } from 'vitest';
import { GIB, containerUuid as u, instanceType, makeContainer } from '../../test/fakes/sched-fixtures.js';
import { SchedHarness } from '../../test/fakes/sched-harness.js';

describe('scheduling statuses (TestManagementAPI_Containers)', () => {
  it('reports Running with no status, the capacity-blocked Locked one at position 1, the rest by position', async () => {
    const h = new SchedHarness({
      types: [1, 2, 3, 4, 6, 8, 16].map((i) => instanceType(i)),
      containers: { MaximumPriceFactor: 1.5 },
      cloudVMs: { InitialQuotaEstimate: 4, MaxInstances: 0 },
      ctrs: Array.from({ length: 20 }, (_, i) =>
        makeContainer(i, { priority: 100 - i, ram: ((i % 3) + 1) * GIB, vcpus: (i % 8) + 1 }),
      ),
    });
    h.pool.quota = 4;
    await h.update();
    await h.pass(); // locks 0-3: nobody knows yet that types 4, 6 and 8 have no capacity
    expect([0, 1, 2, 3, 4].map((i) => h.state(u(i)))).toEqual(['Locked', 'Locked', 'Locked', 'Locked', 'Queued']);
    for (const t of ['providertype4', 'providertype6', 'providertype8']) h.pool.capacity.set(t, 0);
    await h.pass(); // creates type1-3
    expect(h.pool.creates.map((t) => t.name)).toEqual(['type1', 'type2', 'type3']);
    h.pool.bootAll();
    await h.pass(); // starts 0-2
    for (const i of [0, 1, 2]) h.controller.set(u(i), { state: 'Running' });
    await h.update();
    await h.pass();

    const list = h.scheduler.containers();
    expect(list.map((c) => c.entry.container.uuid)).toEqual(Array.from({ length: 20 }, (_, i) => u(i)));
    for (const i of [0, 1, 2]) {
      expect(list[i]!.entry.container.state).toBe('Running');
      expect(list[i]!.schedulingStatus).toBe('');
    }
    expect(list[3]!.entry.container.state).toBe('Locked');
    expect(list[3]!.schedulingStatus).toBe(
      'Waiting in queue at position 1.  Cluster is at capacity for all eligible instance types (type4, type6) and cannot start a new instance right now.',
    );
    for (let i = 4; i < 20; i++) {
      expect(list[i]!.entry.container.state).toBe('Queued');
      expect(list[i]!.schedulingStatus).toBe(
        `Waiting in queue at position ${i - 2}.  Cluster is at capacity and cannot start any new instances right now.`,
      );
    }
  });

  it('reports priority 0, preparing and previous attempt', async () => {
    const h = new SchedHarness({
      ctrs: [
        makeContainer(1, { state: 'Locked', priority: 0 }),
        makeContainer(2, { state: 'Locked', priority: 5 }),
        makeContainer(3, { state: 'Locked', priority: 4 }),
      ],
    });
    h.pool.addWorker(instanceType(1), 'running', [u(2)]);
    h.pool.addWorker(instanceType(1), 'idle');
    h.pool.lingering.add(u(3)); // an earlier crunch-run the snapshot missed is still alive
    await h.update();
    await h.pass();
    expect(h.status(u(1))).toBe('This container will not be scheduled to run because its priority is 0 and state is Locked.');
    expect(h.status(u(2))).toBe('Container is allocated to an instance and preparing to run.');
    expect(h.status(u(3))).toBe('Waiting for previous container attempt to exit.');
    expect(h.pool.starts).toEqual([]);
  });

  it('reports cloud account limits when at quota', async () => {
    const h = new SchedHarness({ ctrs: [makeContainer(3, { state: 'Locked', priority: 4 }), makeContainer(4, { state: 'Queued', priority: 3 })] });
    h.pool.quota = 0;
    await h.update();
    await h.pass();
    expect(h.status(u(3))).toBe('Waiting in queue at position 1.  Cluster is at cloud account limits and cannot start any new instances right now.');
    expect(h.status(u(4))).toBe('Waiting in queue at position 2.  Cluster is at cloud account limits and cannot start any new instances right now.');
    expect(h.controller.stateChanges).toEqual([{ uuid: u(3), from: 'Locked', to: 'Queued' }]);
  });
});
