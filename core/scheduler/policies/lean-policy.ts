// The `lean` policy: the arvados mapper, plus early shutdown of instances nothing in the
// queue can use, with hysteresis and a warm reserve sized from recent arrivals.
import type { MapperInput, MapperPolicy, Plan, SchedulerState } from '../policy.js';
import { advanceWindow, countByType, EMPTY_WINDOW, type ArrivalWindow } from './arrival-window.js';
import { planPass, type ShutdownContext } from '../mapper-pass.js';

export interface LeanOptions {
  /**
   * An idle instance is shut down once idle this long (and nothing wants its type), as a
   * fraction of TimeoutIdle; the pool shuts it down at TimeoutIdle in any case.
   */
  readonly idleGraceFraction: number;
  /** Shut down booting instances nothing is allocated to and nothing wants. */
  readonly trimBooting: boolean;
  /**
   * Keep ceil(arrivals of the type in the window x TimeoutIdle / window x factor) idle or
   * booting instances of each type out of the early shutdown; 0 = no warm reserve.
   */
  readonly warmFactor: number;
  /** Window over which arrivals are counted (ms). */
  readonly windowMs: number;
  /**
   * Running instances of a type with a free VCPU count towards its warm reserve (more
   * savings, less predictable waits: see docs/policies.md); default false.
   */
  readonly reserveCountsRoom?: boolean;
}

export const LEAN_DEFAULTS: LeanOptions = { idleGraceFraction: 0, trimBooting: true, warmFactor: 1, windowMs: 15 * 60_000 };

/** The state `lean` carries: the reference's, plus the arrival window. */
export interface LeanState extends SchedulerState {
  readonly arrivals?: ArrivalWindow;
}

/** Ids of candidates to shut down early, keeping the warm reserve (see LeanOptions). */
export function leanShutdowns(ctx: ShutdownContext, opts: LeanOptions, window: ArrivalWindow): string[] {
  const { input, candidates, wantedTypes } = ctx;
  if (ctx.overQuota) return []; // the reference rule already shuts every candidate down
  const timeoutIdle = input.config.Containers.CloudVMs.TimeoutIdle;
  const grace = Math.max(0, opts.idleGraceFraction) * timeoutIdle;
  const arrivals = opts.warmFactor > 0 ? countByType(window) : new Map<string, number>();
  const keep = new Map<string, number>();
  for (const [type, n] of arrivals) keep.set(type, Math.ceil(((n * timeoutIdle) / opts.windowMs) * opts.warmFactor));
  if (opts.reserveCountsRoom === true) {
    const perInstance = input.config.Containers.CloudVMs.MaxRunningContainersPerInstance;
    for (const s of ctx.slots) {
      const k = keep.get(s.type.name);
      if (k === undefined || k <= 0 || s.state !== 'running' || s.idleBehavior !== 'run' || s.remaining.vcpus < 1) continue;
      if (perInstance > 0 && s.uuids.length >= perInstance) continue;
      keep.set(s.type.name, k - 1);
    }
  }
  // The warm reserve keeps the instances most likely to be reused first: ready ones, then
  // the most recently busy; `candidates` is in instance order, so ties stay deterministic.
  const ordered = [...candidates].sort((a, b) => {
    const ra = a.view.state === 'idle' ? 0 : 1;
    const rb = b.view.state === 'idle' ? 0 : 1;
    return ra - rb || b.view.lastBusy - a.view.lastBusy;
  });
  const out: string[] = [];
  for (const { slot, view } of ordered) {
    const type = slot.type.name;
    if (wantedTypes.has(type)) continue;
    const k = keep.get(type) ?? 0;
    if (k > 0) {
      keep.set(type, k - 1);
      continue;
    }
    if (view.state === 'idle' && input.now - view.lastBusy >= grace) out.push(slot.id);
    else if (view.state === 'booting' && opts.trimBooting) out.push(slot.id);
  }
  return out;
}

export function planLean(input: MapperInput, opts: LeanOptions = LEAN_DEFAULTS): Plan {
  const prev = (input.state as LeanState).arrivals ?? EMPTY_WINDOW;
  const window = opts.warmFactor > 0 ? advanceWindow(prev, input.queue, input.now, opts.windowMs) : EMPTY_WINDOW;
  return planPass(input, {
    extraShutdowns: (ctx) => leanShutdowns(ctx, opts, window),
    nextState: (computed): LeanState => (opts.warmFactor > 0 ? { ...computed, arrivals: window } : computed),
  });
}

/** A `lean` policy with other options (for experiments and what-if runs). */
export function makeLeanPolicy(name: string, opts: LeanOptions): MapperPolicy {
  return { name, description: leanPolicy.description, plan: (input) => planLean(input, opts) };
}

export const leanPolicy: MapperPolicy = {
  name: 'lean',
  description:
    'arvados, plus early shutdown of idle and booting instances no queued container can use, keeping a warm reserve sized from recent arrivals',
  plan: (input) => planLean(input, LEAN_DEFAULTS),
};
