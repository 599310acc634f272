// The `packing` policy: the arvados mapper, except that when it creates an instance it
// picks, among the container's eligible types not at capacity, the one with the lowest
// price per unit of the work that will actually be placed on it in this pass: the
// container itself plus the later containers in the queue that nothing existing can take.
import type { InstanceType } from '../../domain/instance-type.js';
import { accommodates, subtract, typeResources } from '../../domain/node-size.js';
import type { Resources } from '../../domain/resources.js';
import type { QueueEntry } from '../../queue/queue-snapshot.js';
import type { MapperInput, MapperPolicy, Plan } from '../policy.js';
import { planPass, type CreateContext } from '../mapper-pass.js';

export interface PackingOptions {
  /** Later queue entries looked at per create (bounds a pass at any queue length). */
  readonly lookahead: number;
  /**
   * Later queue entries looked at per pass, over all its creates; once spent, the pass
   * creates the cheapest type like arvados (bounds a pass with thousands of creates).
   */
  readonly passBudget: number;
  /** Eligible types compared per create, cheapest first. */
  readonly maxTypes: number;
  /**
   * A bigger type must beat the cheapest by this factor in price per placed work, so that
   * a near tie does not trade a small saving for a bigger instance that stays up for its
   * last container.
   */
  readonly margin: number;
  /**
   * Once a quota error has been seen, the reference's concurrency limit counts instances
   * as if each ran one container; packing then only lowers concurrency, so it stops.
   */
  readonly stopAfterQuota: boolean;
}

export const PACKING_DEFAULTS: PackingOptions = { lookahead: 256, passBudget: 20_000, maxTypes: 8, margin: 0.9, stopAfterQuota: true };

/**
 * What a container is worth on an instance: the lowest price, over its eligible types, of
 * its share of the type (the largest fraction of VCPUs, RAM, scratch or GPUs it needs);
 * close to the measure of the simulator's cost lower bound.
 */
export function workValue(ent: QueueEntry): number {
  let best = Infinity;
  for (const t of ent.instanceTypes) best = Math.min(best, t.price * share(ent.resources, t));
  return Number.isFinite(best) ? best : 0;
}

function share(need: Resources, t: InstanceType): number {
  const parts = [need.vcpus / t.vcpus, need.ram / t.ram];
  if (t.scratch > 0) parts.push(need.scratch / t.scratch);
  if (t.gpu.deviceCount > 0) parts.push(need.gpus / t.gpu.deviceCount);
  let m = 0;
  for (const p of parts) m = Math.max(m, Number.isFinite(p) ? p : 1);
  return Math.min(1, m);
}

/** Lookahead left in this pass (see PackingOptions.passBudget). */
export interface PassBudget {
  left: number;
}

/** The create hook: see the file comment and PackingOptions. */
export function choosePackedType(ctx: CreateContext, opts: PackingOptions = PACKING_DEFAULTS, budget: PassBudget = { left: Infinity }): InstanceType {
  const { entry, available, sorted, position, index, input } = ctx;
  const cheapest = available[0]!;
  if (available.length === 1 || budget.left <= 0) return cheapest;
  if (opts.stopAfterQuota && (input.pool.atQuota || input.state.instancesWithinQuota > 0)) return cheapest;
  const vms = input.config.Containers.CloudVMs;
  const perInstance = vms.MaxRunningContainersPerInstance;

  // Later containers that would need a new instance too: Queued (they would be locked and
  // packed onto this one in the same pass) or Locked, not running, nothing existing fits.
  const later: { ent: QueueEntry; value: number }[] = [];
  const end = Math.min(sorted.length, position + 1 + opts.lookahead, position + 1 + budget.left);
  budget.left -= end - position - 1;
  for (let j = position + 1; j < end; j++) {
    const e = sorted[j]!;
    const c = e.container;
    if (c.priority < 1n || (c.state !== 'Queued' && c.state !== 'Locked') || input.pool.running.has(c.uuid)) continue;
    if (c.state === 'Locked' && !ctx.canStillRun(e)) continue;
    if (index.best(e.instanceTypes, e.resources) !== null) continue;
    later.push({ ent: e, value: workValue(e) });
  }
  const own = workValue(entry);
  let bestType = cheapest;
  let bestScore = Infinity;
  let bestCount = 0;
  for (let k = 0; k < available.length && k < opts.maxTypes; k++) {
    const t = available[k]!;
    let room: Resources = subtract(typeResources(t), entry.resources);
    let n = 1;
    let value = own;
    for (const { ent, value: v } of later) {
      if ((perInstance > 0 && n >= perInstance) || n > ctx.budget) break;
      if (!ent.instanceTypes.includes(t) || !accommodates(room, ent.resources)) continue;
      room = subtract(room, ent.resources);
      n++;
      value += v;
    }
    if (value <= 0) continue;
    const score = (t.price / value) * (k === 0 ? 1 : 1 / opts.margin);
    // Equal price per work: fewer, bigger instances mean fewer creates and boots to wait for.
    if (score < bestScore * (1 - 1e-9) || (score <= bestScore * (1 + 1e-9) && n > bestCount)) {
      bestScore = score;
      bestType = t;
      bestCount = n;
    }
  }
  return bestType;
}

export function planPacking(input: MapperInput, opts: PackingOptions = PACKING_DEFAULTS): Plan {
  const budget: PassBudget = { left: opts.passBudget };
  return planPass(input, { chooseCreateType: (ctx) => choosePackedType(ctx, opts, budget) });
}

/** A `packing` policy with other options (for experiments and what-if runs). */
export function makePackingPolicy(name: string, opts: PackingOptions): MapperPolicy {
  return { name, description: packingPolicy.description, plan: (input) => planPacking(input, opts) };
}

export const packingPolicy: MapperPolicy = {
  name: 'packing',
  description:
    'arvados, but a new instance gets the eligible type with the lowest price per unit of the queued work that will be packed onto it',
  plan: (input) => planPacking(input, PACKING_DEFAULTS),
};
