import { CONTAINER_STATES, type ContainerState } from '../../core/domain/container.js';
import type { SimulatedCloud } from '../cloud/simulated-cloud.js';
import type { OutcomeCounts } from '../controller/outcomes.js';
import type { StubController } from '../controller/stub-controller.js';
import type { SimWorld } from '../runner/sim-world.js';
import type { InvariantViolation } from '../runner/summary.js';

/** A running world's account of itself (`vmdispatch world --summary-out FILE`). */
export interface WorldStatus {
  readonly scenario: string;
  /** Seconds since the world started. */
  readonly elapsedSeconds: number;
  /** Requests in the scenario's workload, and how many have been submitted so far. */
  readonly workload: { readonly total: number; readonly submitted: number };
  /** Submitted requests by the final state of their last container (as summary.json's `containers`). */
  readonly requests: OutcomeCounts;
  /** Containers (replacements included) by state, now. */
  readonly containers: Readonly<Record<ContainerState, number>>;
  /** Every request submitted, and every one has a container in a final state. */
  readonly done: boolean;
  /** crunch-run processes started (refused starts included). */
  readonly crunchRunStarts: number;
  /** Containers whose crunch-run was started more than once (a restart that started again instead of adopting). */
  readonly startedMoreThanOnce: number;
  /** Starts while another crunch-run of the same container was alive. */
  readonly doubleStarts: number;
  readonly invariantViolations: readonly InvariantViolation[];
  /** Illegal container state transitions the controller applied (should be none: it refuses them). */
  readonly transitionViolations: number;
  readonly instances: { readonly live: number; readonly created: number };
}

interface Source {
  readonly scenario: { readonly name: string };
  readonly startMs: number;
  readonly controller: StubController;
  readonly cloud: SimulatedCloud;
  readonly simWorld: SimWorld;
}

export function worldStatus(w: Source, workloadSize: number): WorldStatus {
  const counts = w.controller.outcomeCounts();
  const containers = Object.fromEntries(CONTAINER_STATES.map((s) => [s, w.controller.countInState(s)])) as Record<ContainerState, number>;
  let starts = 0;
  let multi = 0;
  for (const runs of w.simWorld.runs.values()) {
    starts += runs.length;
    if (runs.length > 1) multi++;
  }
  let created = 0;
  for (const _ of w.cloud.ledger.records()) created++;
  return {
    scenario: w.scenario.name,
    elapsedSeconds: (Date.now() - w.startMs) / 1000,
    workload: { total: workloadSize, submitted: counts.total },
    requests: counts,
    containers,
    done: counts.total === workloadSize && counts.unfinished === 0,
    crunchRunStarts: starts,
    startedMoreThanOnce: multi,
    doubleStarts: w.simWorld.doubleStarts,
    invariantViolations: w.simWorld.violations,
    transitionViolations: w.controller.audit().length,
    instances: { live: w.cloud.liveInstanceIds().length, created },
  };
}
