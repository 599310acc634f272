import { SeededRng } from '../../core/domain/seeded-rng.js';
import type { InstanceType } from '../../core/domain/instance-type.js';
import type { CloudBehavior } from '../../sim/cloud/cloud-behavior.js';
import { SimulatedCloud } from '../../sim/cloud/simulated-cloud.js';
import { EventEngine } from '../../sim/engine/event-engine.js';
import { RecordingCrunchRunWorld } from '../../sim/vm/crunch-run-world.js';
import { SimulatedVm } from '../../sim/vm/simulated-vm.js';
import { TEST_TYPES } from './ec2-fixtures.js';

export const SIM_START = Date.UTC(2026, 0, 1);

/** The simulated cloud on its own event engine, with VMs that boot and answer commands. */
export function simCloud(behavior: Partial<CloudBehavior> = {}, types: readonly InstanceType[] = TEST_TYPES): { engine: EventEngine; cloud: SimulatedCloud } {
  const engine = new EventEngine(SIM_START);
  const world = new RecordingCrunchRunWorld(() => engine.now());
  const cloud = new SimulatedCloud({
    clock: engine,
    rng: new SeededRng('ec2-contract'),
    instanceTypes: types,
    behavior: { bootTime: 60_000, ...behavior },
    createVm: (spec) => new SimulatedVm({ ...spec, clock: engine, world, behavior: { commandLatencyMs: 0 } }),
  });
  return { engine, cloud };
}
