import type { Clock } from '../../core/ports/clock.js';
import type { Logger } from '../../core/ports/logger.js';
import type { SimulatedCloud } from '../cloud/simulated-cloud.js';
import type { StubController } from '../controller/stub-controller.js';
import type { Fault } from '../scenario/faults.js';
import { applyFault } from '../runner/faults.js';

/**
 * The scenario's faults on the real clock (times from the world's start). The same kinds as
 * the simulator's (sim/runner/faults.ts) except `dispatcher-restart`: the dispatcher is
 * another process here, so that fault is logged and skipped (kill and restart `serve`
 * instead). Returns a function that cancels the faults not yet due.
 */
export function scheduleWorldFaults(
  faults: readonly Fault[],
  t: { readonly clock: Clock; readonly startMs: number; readonly controller: StubController; readonly cloud: SimulatedCloud; readonly logger: Logger },
): () => void {
  const targets = {
    controller: t.controller,
    cloud: t.cloud,
    startMs: t.startMs,
    restartDispatcher: () =>
      t.logger.warn('fault dispatcher-restart skipped: the dispatcher is a separate process; restart vmdispatch serve instead'),
  };
  const timers = faults.map((f) =>
    t.clock.setTimer(t.startMs + f.at - t.clock.now(), () => {
      t.logger.info('fault', { kind: f.kind, at: f.at / 1000 });
      applyFault(f, targets);
    }),
  );
  return () => {
    for (const timer of timers) timer.cancel();
  };
}
