import { describe, expect, it } from 'vitest';
import { containerUuid as u, instanceType, makeContainer, testCluster } from '../test/fakes/sched-fixtures.js';
import { FakeController } from '../test/fakes/sched-controller.js';
import { EventEngine, RecordingMetrics } from '../test/fakes/sched-harness.js';
import { FakePool } from '../test/fakes/sched-pool.js';
import { Dispatcher } from './dispatcher.js';
import { ControllerError, TransientError } from './ports/errors.js';
import { nullLogger } from './ports/logger.js';
import { arvadosPolicy } from './scheduler/arvados-policy.js';

function setup(cloudVMs: Parameters<typeof testCluster>[0] = {}) {
  const engine = new EventEngine(1_000_000_000);
  const controller = new FakeController(engine);
  const pool = new FakePool();
  const config = testCluster(cloudVMs);
  const d = new Dispatcher({ config, clock: engine, logger: nullLogger, metrics: new RecordingMetrics(), controller, pool, policy: arvadosPolicy });
  return { engine, controller, pool, d };
}

const T1 = instanceType(1);

describe('Dispatcher', () => {
  it('polls, locks, creates and starts on notifications, and stops cleanly', async () => {
    const { engine, controller, pool, d } = setup();
    controller.add(makeContainer(1, { priority: 2 }), makeContainer(2, { priority: 1 }));
    d.start();
    expect(d.state).toBe('running');
    await engine.run({ horizon: engine.now() + 1 });
    expect(controller.db.get(u(1))?.state).toBe('Locked');
    await engine.run({ horizon: engine.now() + 10_000 }); // the next poll notifies: create
    expect(pool.creates.map((t) => t.name)).toEqual(['type1', 'type1']);
    pool.bootAll(); // the pool notifies: start
    await engine.run({ horizon: engine.now() + 1 });
    expect(pool.starts).toEqual([u(1), u(2)]);
    expect(d.containers().map((c) => c.schedulingStatus)).toEqual([
      'Container is allocated to an instance and preparing to run.',
      'Container is allocated to an instance and preparing to run.',
    ]);
    expect(d.container(u(2))?.entry.container.state).toBe('Locked');
    d.stop();
    expect(d.state).toBe('stopped');
    const r = await engine.run();
    expect(r.reason).toBe('idle');
    expect(engine.pending()).toBe(0);
    await d.idle();
  });

  it('coalesces notifications in one instant into one pass', async () => {
    const { engine, pool, d } = setup();
    d.start();
    await engine.run({ horizon: engine.now() + 1 });
    const before = d.scheduler.passCount;
    pool.notify();
    pool.notify();
    pool.notify();
    await engine.run({ horizon: engine.now() + 1 });
    expect(d.scheduler.passCount).toBe(before + 1);
    d.stop();
    await engine.run();
  });

  it('retries the first queue poll every max(PollInterval/10, 1s)', async () => {
    const { engine, controller, d } = setup({ cloudVMs: { PollInterval: 30_000 } });
    controller.failNext('auth', new TransientError('getting token: connection refused'));
    controller.failNext('auth', new TransientError('getting token: connection refused'));
    const t0 = engine.now();
    d.start();
    await engine.run({ horizon: t0 + 10_000 });
    expect(controller.calls.filter((c) => c === 'auth').length).toBe(3);
    expect(controller.callTimes.filter((_, i) => controller.calls[i] === 'auth').map((t) => t - t0)).toEqual([0, 3_000, 6_000]);
    expect(d.scheduler.status).toBe('running');
    d.stop();
    await engine.run();
  });

  it('stops during the first-poll retries without leaving timers', async () => {
    const { engine, controller, d } = setup();
    for (let i = 0; i < 5; i++) controller.failNext('auth', new TransientError('getting token: refused'));
    d.start();
    await engine.run({ horizon: engine.now() + 1_500 });
    d.stop();
    expect((await engine.run()).reason).toBe('idle');
    await d.idle();
    expect(d.scheduler.status).toBe('stopped');
  });

  it('retries a per-container operation 250ms later when one is still in flight', async () => {
    const { engine, controller, pool, d } = setup();
    controller.add(makeContainer(1, { priority: 1 }));
    controller.latency.lock = 1_000;
    d.start();
    await engine.run({ horizon: engine.now() + 1 }); // first pass: lock sent, answer in 1s
    expect(controller.calls.filter((c) => c === `lock ${u(1)}`)).toHaveLength(1);
    const t = engine.now();
    pool.notify(); // another pass: the lock is still in flight, so it waits
    await engine.run({ horizon: t + 1 });
    const passes = d.scheduler.passCount;
    await engine.run({ horizon: t + 250 });
    expect(d.scheduler.passCount).toBe(passes + 1);
    expect(controller.calls.filter((c) => c === `lock ${u(1)}`)).toHaveLength(1);
    await engine.run({ horizon: t + 2_000 });
    expect(controller.db.get(u(1))?.state).toBe('Locked');
    d.stop();
    await engine.run();
  });

  it('logs a failed lock and tries again on a later pass', async () => {
    const { engine, controller, d } = setup();
    controller.add(makeContainer(1, { priority: 1 }));
    controller.failNext('lock', new ControllerError('locking: overloaded', 503));
    d.start();
    await engine.run({ horizon: engine.now() + 1 });
    expect(controller.db.get(u(1))?.state).toBe('Queued');
    await engine.run({ horizon: engine.now() + 10_000 }); // the next poll triggers a pass
    expect(controller.db.get(u(1))?.state).toBe('Locked');
    d.stop();
    await engine.run();
  });

  it('start twice is an error', () => {
    const { d } = setup();
    d.start();
    expect(() => d.start()).toThrow(/starting dispatcher: state is running/);
    d.stop();
  });
});

describe('stale-lock fixer', () => {
  it('waits for unknown workers, then unlocks Locked containers nobody runs', async () => {
    const { engine, controller, pool, d } = setup({ containers: { StaleLockTimeout: 60_000 } });
    controller.add(
      makeContainer(1, { state: 'Locked', lockedByUuid: controller.authUuid, priority: 1 }),
      makeContainer(2, { state: 'Locked', lockedByUuid: controller.authUuid, priority: 1 }),
    );
    const w = pool.addWorker(T1, 'unknown');
    d.start();
    await engine.run({ horizon: engine.now() + 5_000 });
    expect(controller.stateChanges).toEqual([]);
    // The worker reports: it runs container 2.
    w.state = 'running';
    w.running.push(u(2));
    pool.running.set(u(2), 0);
    pool.notify();
    await engine.run({ horizon: engine.now() + 1 });
    // Unlocked, then (scheduling starts) locked again by the mapper; 2 keeps its lock.
    expect(controller.stateChanges[0]).toEqual({ uuid: u(1), from: 'Locked', to: 'Queued' });
    expect(controller.stateChanges.filter((c) => c.uuid === u(2))).toEqual([]);
    d.stop();
    await engine.run();
  });

  it('gives up waiting after StaleLockTimeout', async () => {
    const { engine, controller, pool, d } = setup({ containers: { StaleLockTimeout: 60_000 } });
    controller.add(makeContainer(1, { state: 'Locked', lockedByUuid: controller.authUuid, priority: 1 }));
    pool.addWorker(T1, 'unknown');
    const t0 = engine.now();
    d.start();
    await engine.run({ horizon: t0 + 59_000 });
    expect(controller.stateChanges).toEqual([]);
    await engine.run({ horizon: t0 + 61_000 });
    expect(controller.stateChanges[0]).toEqual({ uuid: u(1), from: 'Locked', to: 'Queued' });
    expect(controller.callTimes[controller.calls.indexOf(`unlock ${u(1)}`)]).toBe(t0 + 60_000);
    d.stop();
    await engine.run();
  });

  it('unlocks nothing when no worker is unknown at start', async () => {
    const { engine, controller, pool, d } = setup();
    controller.add(makeContainer(1, { state: 'Locked', lockedByUuid: controller.authUuid, priority: 1 }));
    pool.addWorker(T1, 'idle');
    d.start();
    await engine.run({ horizon: engine.now() + 1 });
    expect(controller.stateChanges).toEqual([]);
    expect(pool.starts).toEqual([u(1)]);
    d.stop();
    await engine.run();
  });
});
