// The reference's scheduler/sync_test.go behaviours, plus the rest of the syncer's table.
import { describe, expect, it } from 'vitest';
import { containerUuid as u, instanceType, makeContainer } from '../../test/fakes/sched-fixtures.js';
import { SchedHarness } from '../../test/fakes/sched-harness.js';
import { FakePool } from '../../test/fakes/sched-pool.js';
import type { QueueEntry, QueueSnapshot } from '../queue/queue-snapshot.js';
import type { Container } from '../domain/container.js';
import { planSync } from './sync-plan.js';

const T1 = instanceType(1);

describe('sync (reference sync_test.go)', () => {
  it('TestForgetIrrelevantContainers: a Queued priority-0 entry is forgotten; an unseen Complete container never enters', async () => {
    const h = new SchedHarness({
      ctrs: [makeContainer(1, { priority: 1 }), makeContainer(2, { state: 'Complete', priority: 0 })],
    });
    h.controller.set(u(2), { lockedByUuid: h.controller.authUuid });
    await h.update();
    expect(h.state(u(1))).toBe('Queued');
    expect(h.queue.get(u(2))).toBeUndefined();
    h.controller.set(u(1), { priority: 0n });
    await h.update();
    expect(h.queue.get(u(1))?.container.priority).toBe(0n);
    await h.pass();
    expect(h.queue.get(u(1))).toBeUndefined();
  });

  it('TestCancelOrphanedContainers: a Running container on no worker is cancelled only once no worker is unknown, then forgotten', async () => {
    const h = new SchedHarness({ ctrs: [makeContainer(1, { state: 'Running', priority: 1 })] });
    const w = h.pool.addWorker(T1, 'unknown');
    await h.update();
    await h.pass();
    expect(h.state(u(1))).toBe('Running');
    h.pool.removeWorker(w.id);
    await h.pass();
    expect(h.state(u(1))).toBe('Cancelled');
    expect(h.controller.stateChanges).toEqual([{ uuid: u(1), from: 'Running', to: 'Cancelled' }]);
    await h.pass();
    expect(h.queue.get(u(1))).toBeUndefined();
  });
});

function snap(ctrs: readonly Container[], updatedAt: number): QueueSnapshot {
  const entries = new Map<string, QueueEntry>();
  for (const c of ctrs) {
    entries.set(c.uuid, {
      container: c,
      resources: { vcpus: 1, ram: 1, scratch: 0, gpus: 0, gpuVram: 0 },
      instanceTypes: [T1],
      firstSeenAt: 0,
    });
  }
  return { entries, updatedAt };
}

describe('sync rules table', () => {
  const pool = new FakePool();
  pool.running.set(u(1), 0); // Running, priority 0: kill
  pool.running.set(u(2), 500); // Running, exited before the poll: cancel
  pool.running.set(u(3), 0); // Complete, still in pool: kill
  pool.running.set(u(5), 0); // Queued but running: kill
  pool.running.set(u(7), 500); // Locked, exited before the poll: requeue
  pool.running.set(u(8), 0); // Locked, priority 0, running: kill
  pool.running.set(u(10), 0); // not in queue: kill
  pool.running.set(u(11), 2000); // Locked, exited after the poll started: nothing yet
  const ps = pool.snapshot();
  const qs = snap(
    [
      makeContainer(1, { state: 'Running', priority: 0 }),
      makeContainer(2, { state: 'Running', priority: 1 }),
      makeContainer(3, { state: 'Complete', priority: 1 }),
      makeContainer(4, { state: 'Cancelled', priority: 1 }),
      makeContainer(5, { state: 'Queued', priority: 1 }),
      makeContainer(6, { state: 'Queued', priority: 0 }),
      makeContainer(7, { state: 'Locked', priority: 1 }),
      makeContainer(8, { state: 'Locked', priority: 0 }),
      makeContainer(9, { state: 'Locked', priority: 0 }),
      makeContainer(11, { state: 'Locked', priority: 1 }),
      makeContainer(12, { state: 'Running', priority: 1 }),
    ],
    1000,
  );
  const plan = planSync(qs, ps);

  it('cancels Running containers whose crunch-run exited before the last poll, or that no worker runs', () => {
    expect(plan.cancel).toEqual([
      { uuid: u(2), reason: 'state=Running after crunch-run exited' },
      { uuid: u(12), reason: 'not running on any worker' },
    ]);
  });

  it('kills priority-0, finished, requeued and unknown containers', () => {
    expect(plan.kill).toEqual([
      { uuid: u(1), reason: 'priority=0' },
      { uuid: u(3), reason: 'state=Complete' },
      { uuid: u(5), reason: 'pool says running, but queue says state=Queued' },
      { uuid: u(8), reason: 'priority=0' },
      { uuid: u(10), reason: 'not in queue' },
    ]);
  });

  it('requeues Locked containers whose crunch-run exited, or whose priority dropped to 0', () => {
    expect(plan.requeue).toEqual([
      { uuid: u(7), reason: 'crunch-run exited' },
      { uuid: u(9), reason: 'priority=0' },
    ]);
  });

  it('forgets finished containers and Queued ones on hold', () => {
    expect(plan.forget).toEqual([u(4), u(6)]);
  });

  it('does not cancel orphans while a worker is unknown', () => {
    const p2 = new FakePool();
    p2.addWorker(T1, 'unknown');
    expect(planSync(snap([makeContainer(12, { state: 'Running' })], 0), p2.snapshot()).cancel).toEqual([]);
  });
});
