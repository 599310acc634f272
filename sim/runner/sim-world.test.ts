import { describe, expect, it } from 'vitest';
import { nullLogger } from '../../core/ports/logger.js';
import type { SimulatedCloud } from '../cloud/simulated-cloud.js';
import { StubController } from '../controller/stub-controller.js';
import { requestSpec } from '../controller/stub-fixtures.js';
import { EventEngine } from '../engine/event-engine.js';
import type { ContainerRequestSpec } from '../workload/types.js';
import { SimWorld } from './sim-world.js';

function setUp() {
  const engine = new EventEngine({ startMs: 0 });
  const controller = new StubController({ clock: engine });
  const snap = controller.submitRequest(requestSpec('w0-0'));
  const spec = { id: 'w0-0', runtimeMs: 60_000, outcome: 'complete' } as ContainerRequestSpec;
  const world = new SimWorld(engine, 0, controller, new Map([['w0-0', spec]]), nullLogger);
  const alive = new Set<string>();
  world.attachCloud({ vm: (id: string) => ({ hasLiveProcess: () => alive.has(id) }) } as unknown as SimulatedCloud);
  return { controller, world, uuid: snap.uuid, alive };
}

describe('SimWorld', () => {
  it('counts a start while another crunch-run of the container lives elsewhere as a double start', async () => {
    const { controller, world, uuid, alive } = setUp();
    await controller.lock(uuid);
    expect(world.containerStarting(uuid, { Env: {} }, 'i-1')).toEqual({ runtimeMs: 60_000, outcome: 'complete' });
    alive.add('i-1');
    world.containerStarting(uuid, { Env: {} }, 'i-2');
    expect(world.doubleStarts).toBe(1);
    expect(world.violations[0]).toMatchObject({ invariant: 'no-double-start' });
  });

  it('does not count a restart after the first crunch-run died', async () => {
    const { controller, world, uuid } = setUp();
    await controller.lock(uuid);
    world.containerStarting(uuid, { Env: {} }, 'i-1');
    world.containerStarting(uuid, { Env: {} }, 'i-2');
    expect(world.doubleStarts).toBe(0);
    expect(world.runs.get(uuid)?.map((r) => r.instanceId)).toEqual(['i-1', 'i-2']);
  });

  it('refuses, as crunch-run does, a container that is not Locked by the dispatcher', () => {
    const { world, uuid } = setUp();
    expect(world.containerStarting(uuid, { Env: {} }, 'i-1')).toEqual({ refused: 'container state is Queued' });
  });
});
