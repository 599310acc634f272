import type { ContainerState } from '../../core/domain/container.js';
import type { Filter, ListParams } from '../../core/ports/controller.js';
import { ControllerError } from '../../core/ports/errors.js';
import { compileFilters, compileOrder, type OrderKind } from './query.js';
import type { Rec } from './records.js';
import type { SortedIndex } from './sorted-index.js';

/** @internal The stub's indexes, maintained by StubController on every change. */
export interface Indexes {
  /** Creation order, which is also uuid order. */
  readonly all: Rec[];
  readonly byUuid: Map<string, Rec>;
  readonly byState: Map<ContainerState, Set<Rec>>;
  /** Queued with priority > 0, priority desc then uuid: the dispatcher's poll 2. */
  readonly queued: SortedIndex<Rec>;
  /** By locker, in uuid order: the dispatcher's poll 1. */
  readonly lockedBy: Map<string, SortedIndex<Rec>>;
}

interface Source {
  readonly items: Iterable<Rec>;
  /** The order the items come in, if it is one the planner can use without sorting. */
  readonly kind: OrderKind | 'none';
  /** Every item matches the filters, so `skip(n)` may jump over the first n. */
  readonly skip?: (n: number) => Iterable<Rec>;
}

function find(filters: readonly Filter[], field: string, op: string): Filter | undefined {
  return filters.find((f) => f[0] === field && f[1] === op);
}

function intValue(f: Filter): bigint | undefined {
  const v = f[2];
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^-?[0-9]+$/.test(v)) return BigInt(v);
  return undefined;
}

/** Whether a priority filter admits only priorities > 0 (`exact`: all of them). */
function priorityFloor(f: Filter | undefined): 'none' | 'within' | 'exact' {
  const n = f === undefined ? undefined : intValue(f);
  if (f === undefined || n === undefined) return 'none';
  const floor = f[1] === '>' ? n + 1n : n;
  return floor === 1n ? 'exact' : floor > 1n ? 'within' : 'none';
}

function* fromIndex(arr: readonly Rec[], start: number): IterableIterator<Rec> {
  for (let i = start; i < arr.length; i++) yield arr[i]!;
}

/** The smallest candidate set the filters allow, so common queries do not scan everything. */
function chooseSource(idx: Indexes, filters: readonly Filter[]): Source {
  const uuidEq = find(filters, 'uuid', '=');
  if (uuidEq !== undefined && typeof uuidEq[2] === 'string') {
    const r = idx.byUuid.get(uuidEq[2]);
    return { items: r === undefined ? [] : [r], kind: 'seq' };
  }
  const uuidIn = find(filters, 'uuid', 'in');
  if (uuidIn !== undefined && Array.isArray(uuidIn[2])) {
    const seen = new Set<Rec>();
    for (const u of uuidIn[2]) {
      const r = typeof u === 'string' ? idx.byUuid.get(u) : undefined;
      if (r !== undefined) seen.add(r);
    }
    return { items: [...seen].sort((a, b) => a.seq - b.seq), kind: 'seq' };
  }
  const after = find(filters, 'uuid', '>');
  const afterUuid = after !== undefined && typeof after[2] === 'string' ? after[2] : undefined;
  const locker = find(filters, 'locked_by_uuid', '=');
  if (locker !== undefined && typeof locker[2] === 'string') {
    const li = idx.lockedBy.get(locker[2]);
    if (li === undefined) return { items: [], kind: 'seq' };
    const start = afterUuid === undefined ? 0 : li.lowerBound((r) => r.uuid <= afterUuid);
    return { items: li.from(start), kind: 'seq' };
  }
  const state = find(filters, 'state', '=');
  const prio = find(filters, 'priority', '>') ?? find(filters, 'priority', '>=');
  const floor = priorityFloor(prio);
  if (state !== undefined && state[2] === 'Queued' && floor !== 'none') {
    // The dispatcher's poll 2 matches the index exactly: offsets need not be walked.
    const exact = floor === 'exact' && filters.length === 2;
    return { items: idx.queued.from(0), kind: 'priority-desc', ...(exact ? { skip: (n: number) => idx.queued.from(n) } : {}) };
  }
  if (state !== undefined && typeof state[2] === 'string') {
    return { items: idx.byState.get(state[2] as ContainerState) ?? [], kind: 'none' };
  }
  let start = 0;
  if (afterUuid !== undefined) {
    let lo = 0;
    let hi = idx.all.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (idx.all[mid]!.uuid <= afterUuid) lo = mid + 1;
      else hi = mid;
    }
    start = lo;
  }
  return { items: fromIndex(idx.all, start), kind: 'seq' };
}

/**
 * Runs one list query: filters, order, offset, limit (default 100, capped at
 * `maxItems`). Queries whose order matches an index stop after offset + limit matches.
 */
export function planQuery(idx: Indexes, params: ListParams, maxItems: number): Rec[] {
  const pred = compileFilters(params.filters);
  const order = compileOrder(params.order);
  const limit = Math.min(params.limit ?? 100, maxItems);
  const offset = params.offset ?? 0;
  if (!Number.isInteger(limit) || limit < 0) throw new ControllerError(`listing containers: bad limit ${params.limit}`, 422);
  if (!Number.isInteger(offset) || offset < 0) throw new ControllerError(`listing containers: bad offset ${params.offset}`, 422);
  const src = chooseSource(idx, params.filters);
  if (src.kind === order.kind) {
    const out: Rec[] = [];
    let skip = offset;
    if (limit === 0) return out;
    let items = src.items;
    if (src.skip !== undefined) {
      items = src.skip(offset);
      skip = 0;
    }
    for (const r of items) {
      if (!pred(r)) continue;
      if (skip > 0) {
        skip--;
        continue;
      }
      out.push(r);
      if (out.length >= limit) break;
    }
    return out;
  }
  const matches: Rec[] = [];
  for (const r of src.items) if (pred(r)) matches.push(r);
  matches.sort(order.compare);
  return matches.slice(offset, offset + limit);
}
