import type { SimulatedCloud } from '../cloud/simulated-cloud.js';
import type { StubController } from '../controller/stub-controller.js';
import type { EventEngine } from '../engine/event-engine.js';
import type { Fault } from '../scenario/faults.js';

export interface FaultTargets {
  readonly controller: StubController;
  readonly cloud: SimulatedCloud;
  /** Time 0 of the scenario (ms since the epoch). */
  readonly startMs: number;
  /** Throw the dispatcher's state away and start a fresh one (a crash and restart). */
  readonly restartDispatcher: () => void;
}

/** Arm a timer on the engine for every fault of the scenario (times are ms from the start). */
export function scheduleFaults(faults: readonly Fault[], engine: EventEngine, t: FaultTargets): void {
  for (const f of faults) engine.setTimer(t.startMs + f.at - engine.now(), () => applyFault(f, t));
}

/** Inflict one fault on the simulated world, now. */
export function applyFault(f: Fault, t: FaultTargets): void {
  switch (f.kind) {
    case 'controller-unavailable':
      t.controller.setUnavailable(t.startMs + f.at, t.startMs + f.at + f.for);
      break;
    case 'cloud-api-outage':
      t.cloud.apiOutage(f.for);
      break;
    case 'dispatcher-restart':
      t.restartDispatcher();
      break;
    case 'kill-instances':
      t.cloud.killInstances(f.count);
      break;
    case 'quota':
      t.cloud.setQuota({
        ...(f.instances !== undefined ? { instances: f.instances } : {}),
        ...(f.vcpus !== undefined ? { vcpus: f.vcpus } : {}),
      });
      break;
    case 'ssh-partition':
      t.cloud.partitionInstances(f.count, f.for);
      break;
  }
}
