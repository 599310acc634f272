// The `spot-fallback` policy: the arvados mapper, plus a way out for containers that may
// only run on preemptible (spot) types when spot does not come: such a container also
// becomes eligible for the on-demand types its preemptible types were derived from, once
// every one of its preemptible types is at capacity, once it has waited past a patience,
// or (optionally) once it has been locked before. The `preemptible` flag allows spot, it
// does not require it, so an on-demand VM is a legal place for the container; Arvados'
// own chooser just never offers one (node-size.ts).
//
// The policy changes only the input of the reference pass: the eligible entries' type lists
// are widened, and the pass runs unchanged. So every rule and limit of the reference holds
// (queue order, concurrency limit, supervisor limit, quota, MaxInstances, create limits,
// capacity, room on instances), applied to the wider lists; the scheduler and the pool never
// check a container against its sized list (a start or create names an instance or a type,
// not a list), so nothing downstream refuses the wider choice.
import type { ClusterConfig } from '../../config/cluster-config.js';
import { sameHardware, type InstanceType } from '../../domain/instance-type.js';
import { compareInstanceTypes } from '../../domain/node-size.js';
import type { QueueEntry } from '../../queue/queue-snapshot.js';
import { planPass } from '../mapper-pass.js';
import type { MapperInput, MapperPolicy, Plan, SchedulerState } from '../policy.js';

export interface SpotFallbackOptions {
  /** Fall back when every one of the container's preemptible types is at capacity. */
  readonly onCapacity: boolean;
  /**
   * With `onCapacity`: only once the container has been in the queue this long (ms since
   * first seen), so that it may still get room on a spot instance that frees up; default
   * 0 (at once).
   */
  readonly capacityGraceMs?: number;
  /**
   * Fall back once the container has been in the queue this long (ms since first seen);
   * Infinity = never. The default, 10 minutes, is several times what a healthy spot start
   * takes (lock, create, a 90 s to 4 min boot) and ten capacity-error memories (1 min).
   */
  readonly patienceMs: number;
  /**
   * Fall back once the container's lock_count reaches this (it was locked and handed back
   * before: its instance vanished while it started, or an over-quota unlock); 0 = never.
   */
  readonly minLockCount: number;
}

export const SPOT_FALLBACK_DEFAULTS: SpotFallbackOptions = { onCapacity: true, patienceMs: 10 * 60_000, minLockCount: 0 };

/** Containers remembered as fallen back at most (bounds the state; the excess is forgotten). */
export const MAX_FALLEN_BACK_KEPT = 4096;

/** The state `spot-fallback` carries: the reference's, plus the containers that fell back. */
export interface SpotFallbackState extends SchedulerState {
  /**
   * Locked containers (or containers this pass locks) that fell back, sorted: they stay
   * fallen back while Locked, so that a container for which an on-demand instance is
   * booting keeps its claim on it when the spot capacity memory expires meanwhile.
   */
  readonly fallenBack?: readonly string[];
}

const widenedCache = new WeakMap<object, WeakMap<readonly InstanceType[], readonly InstanceType[]>>();
/** Widened copies of queue entries (entries are immutable), so that a pass does not copy again. */
const entryCache = new WeakMap<QueueEntry, QueueEntry>();

/**
 * `types` plus the on-demand type each preemptible one stands for (same provider type,
 * VCPUs, RAM, scratch and GPU: the type an autofilled `<name>.preemptible` was copied from,
 * or a configured on-demand twin), all in Arvados' preference order (price first). Returns
 * `types` itself when there is nothing to add: for an on-demand container, or when no
 * twin is configured. Memoized per InstanceTypes object and list (lists are shared per
 * container shape by the sizing cache); the result is frozen.
 */
export function withOnDemandTwins(types: readonly InstanceType[], config: ClusterConfig): readonly InstanceType[] {
  let byList = widenedCache.get(config.InstanceTypes);
  if (byList === undefined) {
    byList = new WeakMap();
    widenedCache.set(config.InstanceTypes, byList);
  }
  let out = byList.get(types);
  if (out === undefined) {
    out = computeTwins(types, config);
    byList.set(types, out);
  }
  return out;
}

function computeTwins(types: readonly InstanceType[], config: ClusterConfig): readonly InstanceType[] {
  if (types.length === 0 || !types.every((t) => t.preemptible)) return types;
  const extra: InstanceType[] = [];
  const onDemand = Object.values(config.InstanceTypes).filter((t) => !t.preemptible);
  for (const p of types) {
    for (const o of onDemand) {
      if (sameHardware(p, o) && !extra.includes(o)) extra.push(o);
    }
  }
  if (extra.length === 0) return types;
  return Object.freeze([...types, ...extra].sort(compareInstanceTypes));
}


/** The input the reference pass sees, and which containers fell back. */
export interface FallbackView {
  readonly input: MapperInput;
  /** Uuids whose type list was widened, in no particular order. */
  readonly widened: readonly string[];
}

/**
 * The input with the type list of every container that falls back widened by
 * withOnDemandTwins: preemptible, Queued or Locked, priority > 0, not running or starting,
 * with an on-demand twin, and one of: remembered in `input.state` as fallen back; every
 * preemptible type at capacity (`onCapacity`, once first seen `capacityGraceMs` ago);
 * first seen at least `patienceMs` ago; lock_count at least `minLockCount`. Other entries are the input's own objects; when
 * nothing falls back, the input itself is returned.
 */
export function fallbackView(input: MapperInput, opts: SpotFallbackOptions = SPOT_FALLBACK_DEFAULTS): FallbackView {
  const { queue, pool, config, now } = input;
  const remembered = new Set((input.state as SpotFallbackState).fallenBack ?? []);
  const allAtCapacity = new Map<readonly InstanceType[], boolean>();
  const replaced: [string, QueueEntry][] = [];
  for (const [uuid, ent] of queue.entries) {
    const c = ent.container;
    if (!c.schedulingParameters.preemptible || (c.state !== 'Queued' && c.state !== 'Locked') || c.priority < 1n) continue;
    if (pool.running.has(uuid)) continue;
    const wide = withOnDemandTwins(ent.instanceTypes, config);
    if (wide === ent.instanceTypes) continue;
    let falls = remembered.has(uuid) || now - ent.firstSeenAt >= opts.patienceMs || (opts.minLockCount > 0 && (c.lockCount ?? 0) >= opts.minLockCount);
    if (!falls && opts.onCapacity && now - ent.firstSeenAt >= (opts.capacityGraceMs ?? 0)) {
      let all = allAtCapacity.get(ent.instanceTypes);
      if (all === undefined) {
        all = ent.instanceTypes.every((t) => pool.atCapacity(t));
        allAtCapacity.set(ent.instanceTypes, all);
      }
      falls = all;
    }
    if (!falls) continue;
    let copy = entryCache.get(ent);
    if (copy === undefined || copy.instanceTypes !== wide) {
      copy = { ...ent, instanceTypes: wide };
      entryCache.set(ent, copy);
    }
    replaced.push([uuid, copy]);
  }
  if (replaced.length === 0) return { input, widened: [] };
  const entries = new Map(queue.entries);
  for (const [uuid, ent] of replaced) entries.set(uuid, ent);
  return { input: { ...input, queue: { ...queue, entries } }, widened: replaced.map(([u]) => u) };
}

export function planSpotFallback(input: MapperInput, opts: SpotFallbackOptions = SPOT_FALLBACK_DEFAULTS): Plan {
  const view = fallbackView(input, opts);
  const plan = planPass(view.input);
  // Remember the fallen-back containers that are ours (Locked, starting included) or
  // become ours in this pass.
  const prev = (input.state as SpotFallbackState).fallenBack;
  const locking = new Set(plan.lock);
  const keep = new Set<string>();
  for (const uuid of [...(prev ?? []), ...view.widened]) {
    const c = input.queue.entries.get(uuid)?.container;
    if (c !== undefined && (c.state === 'Locked' || locking.has(uuid))) keep.add(uuid);
  }
  if (keep.size === 0 && prev === undefined) return plan;
  const sorted = [...keep].sort();
  const fallenBack = sorted.length > MAX_FALLEN_BACK_KEPT ? sorted.slice(0, MAX_FALLEN_BACK_KEPT) : sorted;
  const { fallenBack: _previous, ...base } = plan.state as SpotFallbackState;
  const state: SpotFallbackState = fallenBack.length > 0 ? { ...base, fallenBack } : base;
  return { ...plan, state };
}

/** A `spot-fallback` policy with other options (for experiments and what-if runs). */
export function makeSpotFallbackPolicy(name: string, opts: SpotFallbackOptions): MapperPolicy {
  return { name, description: spotFallbackPolicy.description, plan: (input) => planSpotFallback(input, opts) };
}

export const spotFallbackPolicy: MapperPolicy = {
  name: 'spot-fallback',
  description:
    'arvados, but a preemptible container may also run on the on-demand twins of its types once spot is at capacity for all of them or it has waited 10 minutes',
  plan: (input) => planSpotFallback(input, SPOT_FALLBACK_DEFAULTS),
};
