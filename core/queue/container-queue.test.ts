import { describe, expect, it } from 'vitest';
import { GIB, containerUuid as u, makeContainer, testCluster } from '../../test/fakes/sched-fixtures.js';
import { FakeController } from '../../test/fakes/sched-controller.js';
import { EventEngine, RecordingMetrics } from '../../test/fakes/sched-harness.js';
import { RecordError } from '../domain/record-error.js';
import { ControllerError, TransientError } from '../ports/errors.js';
import { nullLogger } from '../ports/logger.js';
import { ContainerQueue } from './container-queue.js';

function setup(cluster = testCluster()) {
  const engine = new EventEngine(1_000_000);
  const controller = new FakeController(engine);
  const metrics = new RecordingMetrics();
  const queue = new ContainerQueue({ controller, clock: engine, logger: nullLogger, metrics, cluster });
  return { engine, controller, queue, metrics };
}

/** Run `p` to completion on the virtual clock. */
async function onClock<T>(engine: EventEngine, p: Promise<T>): Promise<T> {
  let done = false;
  const q = p.finally(() => {
    done = true;
  });
  while (!done) {
    await engine.settle();
    if (done) break;
    const next = engine.nextTime();
    if (next === undefined) break;
    await engine.run({ horizon: next });
  }
  return q;
}

describe('ContainerQueue', () => {
  it('polls containers locked by us and runnable ones, sized once on first sight', async () => {
    const { controller, queue, metrics } = setup();
    controller.add(
      makeContainer(1, { state: 'Locked', lockedByUuid: controller.authUuid, priority: 5 }),
      makeContainer(2, { priority: 3 }),
      makeContainer(3, { priority: 0 }),
      makeContainer(4, { state: 'Locked', lockedByUuid: 'zzzzz-gj3su-someoneelse00000', priority: 9 }),
    );
    await queue.update();
    const snap = queue.snapshot();
    expect([...snap.entries.keys()].sort()).toEqual([u(1), u(2)]);
    expect(snap.updatedAt).toBe(1_000_000);
    const ent = snap.entries.get(u(2))!;
    expect(ent.instanceTypes[0]?.name).toBe('type1');
    expect(ent.resources.ram).toBe(Math.floor((GIB * 100) / 95));
    expect(ent.firstSeenAt).toBe(1_000_000);
    expect(ent.container.mounts).toBeUndefined();
    expect(metrics.get('queue_entries', { state: 'Queued', instance_type: 'type1' })).toBe(1);
    const gets = controller.calls.filter((c) => c.startsWith('get ')).length;
    await queue.update();
    expect(controller.calls.filter((c) => c.startsWith('get ')).length).toBe(gets);
  });

  it('stops fetching queued containers after the page where 100 non-supervisors were reached', async () => {
    const { controller, queue } = setup();
    for (let i = 0; i < 1100; i++) controller.add(makeContainer(i, { priority: 1 + (i % 7) }));
    await queue.update();
    expect(queue.snapshot().entries.size).toBe(1000);
    expect(controller.calls.filter((c) => c.includes('"Queued"')).length).toBe(1);
  });

  it('fetches known containers that the polls missed, by uuid in batches of 20, and drops deleted ones', async () => {
    const { controller, queue } = setup();
    for (let i = 0; i < 25; i++) controller.add(makeContainer(i, { priority: 1 }));
    await queue.update();
    for (let i = 0; i < 24; i++) controller.set(u(i), { priority: 0n });
    controller.db.delete(u(24));
    controller.calls.length = 0;
    await queue.update();
    const batches = controller.calls.filter((c) => c.includes('"in"'));
    expect(batches.length).toBeGreaterThanOrEqual(3);
    expect(queue.snapshot().entries.size).toBe(24);
    expect(queue.get(u(3))?.container.priority).toBe(0n);
    expect(queue.get(u(24))).toBeUndefined();
  });

  it('never lets a stale poll overwrite what a lock response taught it', async () => {
    const { engine, controller, queue } = setup();
    controller.add(makeContainer(1, { priority: 1 }));
    await onClock(engine, queue.update());
    controller.latency.list = 100;
    controller.latency.lock = 10;
    const upd = queue.update();
    // The runnable-queue poll reads the db at +100ms and answers at +200ms; lock at +150ms.
    await engine.run({ horizon: engine.now() + 150 });
    const lock = queue.lock(u(1));
    await onClock(engine, Promise.all([upd, lock]));
    expect(queue.get(u(1))?.container.state).toBe('Locked');
  });

  it('locks, gives a runtime-status error and cancels a container no instance type can satisfy', async () => {
    const { controller, queue } = setup();
    controller.add(makeContainer(1, { priority: 1, vcpus: 1000 }));
    await queue.update();
    await queue.idle();
    expect(queue.get(u(1))).toBeUndefined();
    const c = controller.db.get(u(1))!;
    expect(c.state).toBe('Cancelled');
    expect(c.runtimeStatus).toEqual({ error: 'constraints not satisfiable by any configured instance type' });
    expect(controller.stateChanges.map((s) => s.to)).toEqual(['Locked', 'Cancelled']);
  });

  it('cancels a container whose record does not decode (bad mounts)', async () => {
    const { controller, queue } = setup();
    controller.add(makeContainer(1, { priority: 1 }));
    controller.failNext(
      'get',
      new TransientError('getting container: bad record', { cause: new RecordError('mounts./tmp.capacity', 'expected a number, got "x"') }),
    );
    await queue.update();
    await queue.idle();
    expect(queue.get(u(1))).toBeUndefined();
    const c = controller.db.get(u(1))!;
    expect(c.state).toBe('Cancelled');
    expect(String(c.runtimeStatus?.error)).toMatch(/^error getting mounts from container record: /);
  });

  it('skips a container whose mounts cannot be fetched for a transient reason, and retries', async () => {
    const { controller, queue } = setup();
    controller.add(makeContainer(1, { priority: 1 }));
    controller.failNext('get', new TransientError('getting container: connection reset'));
    await queue.update();
    expect(queue.get(u(1))).toBeUndefined();
    await queue.update();
    expect(queue.get(u(1))?.container.state).toBe('Queued');
  });

  it('lock, unlock and cancel go through the controller and update the entry', async () => {
    const { controller, queue } = setup();
    controller.add(makeContainer(1, { priority: 1 }));
    await queue.update();
    let notified = 0;
    queue.subscribe(() => notified++);
    await queue.lock(u(1));
    expect(queue.get(u(1))?.container.state).toBe('Locked');
    expect(queue.get(u(1))?.container.lockedByUuid).toBe(controller.authUuid);
    await queue.unlock(u(1));
    expect(queue.get(u(1))?.container.state).toBe('Queued');
    await queue.cancel(u(1));
    expect(queue.get(u(1))?.container.state).toBe('Cancelled');
    expect(notified).toBe(3);
    await expect(queue.lock(u(1))).rejects.toBeInstanceOf(ControllerError);
  });

  it('forgets only finished containers and Queued ones with priority 0', async () => {
    const { controller, queue } = setup();
    controller.add(makeContainer(1, { priority: 1 }), makeContainer(2, { state: 'Locked', lockedByUuid: controller.authUuid }));
    await queue.update();
    queue.forget(u(1));
    queue.forget(u(2));
    expect(queue.snapshot().entries.size).toBe(2);
    await queue.cancel(u(1));
    queue.forget(u(1));
    expect(queue.get(u(1))).toBeUndefined();
  });

  it('keeps the cache when a poll fails', async () => {
    const { controller, queue } = setup();
    controller.add(makeContainer(1, { priority: 1 }));
    await queue.update();
    controller.failNext('list', new ControllerError('listing containers: overloaded', 503));
    await expect(queue.update()).rejects.toBeInstanceOf(ControllerError);
    expect(queue.get(u(1))).toBeDefined();
  });

  it('polls every PollInterval, or after the last poll took longer', async () => {
    const { engine, controller, queue } = setup(testCluster({ cloudVMs: { PollInterval: 10_000 } }));
    const t0 = engine.now();
    queue.startPolling();
    await engine.run({ horizon: t0 + 35_000 });
    const polls = () => controller.calls.flatMap((c, i) => (c.includes('"Queued"') ? [controller.callTimes[i]! - t0] : []));
    expect(polls()).toEqual([10_000, 20_000, 30_000]);
    // Each list now takes 6s: the poll starting at 40s asks for the runnable queue at 46s
    // and ends at 52s; having taken 12s, it waits 12s (not 10s), so the next one starts at
    // 64s and asks at 70s.
    controller.latencyMs = 6_000;
    await engine.run({ horizon: t0 + 75_000 });
    queue.stop();
    expect(polls()).toEqual([10_000, 20_000, 30_000, 46_000, 70_000]);
    await engine.run();
  });
});
