import type { SimulatedCloud } from '../cloud/simulated-cloud.js';
import type { StubController } from '../controller/stub-controller.js';
import type { EventEngine } from '../engine/event-engine.js';
import type { Fault } from '../scenario/faults.js';

export interface FaultTargets {
  readonly engine: EventEngine;
  readonly controller: StubController;
  readonly cloud: SimulatedCloud;
  /** Throw the dispatcher's state away and start a fresh one (a crash and restart). */
  readonly restartDispatcher: () => void;
}

/** Arm a timer for every fault of the scenario (times are ms from the start). */
export function scheduleFaults(faults: readonly Fault[], t: FaultTargets): void {
  const start = t.engine.now();
  for (const f of faults) {
    t.engine.setTimer(f.at, () => {
      switch (f.kind) {
        case 'controller-unavailable':
          t.controller.setUnavailable(start + f.at, start + f.at + f.for);
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
    });
  }
}
