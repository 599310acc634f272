import type { InstanceType } from '../domain/instance-type.js';
import type { Resources } from '../domain/resources.js';
import { accommodates, subtract, typeResources } from '../domain/node-size.js';
import type { InstanceView, WorkerState } from '../pool/pool-api.js';

/** One instance during a mapper pass: its snapshot view plus the pass's tentative allocations. */
export interface Slot {
  /** '' for a pending create (from the snapshot or made in this pass). */
  readonly id: string;
  readonly type: InstanceType;
  readonly price: number;
  /** Tie-break after the id, so pending creates keep a stable order. */
  readonly seq: number;
  readonly state: WorkerState;
  readonly idleBehavior: InstanceView['idleBehavior'];
  remaining: Resources;
  /** Containers running, starting or allocated in this pass. */
  readonly uuids: string[];
  bucket: Bucket | null;
}

export const NO_RESOURCES: Resources = Object.freeze({ vcpus: 0, ram: 0, scratch: 0, gpus: 0, gpuVram: 0 });

export function isReady(s: Slot): boolean {
  return s.state === 'idle' || s.state === 'running';
}

/** The reference's instance order: price, then bigger types, then id (pending creates first). */
export function compareSlots(a: Slot, b: Slot): number {
  if (a.price !== b.price) return a.price - b.price;
  if (a.type.vcpus !== b.type.vcpus) return b.type.vcpus - a.type.vcpus;
  if (a.type.ram !== b.type.ram) return b.type.ram - a.type.ram;
  if (a.type.scratch !== b.type.scratch) return b.type.scratch - a.type.scratch;
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  return a.seq - b.seq;
}

/**
 * Open instances of one type with the same container count and readiness, in instance
 * order. Removal is lazy (a slot belongs to the bucket iff `slot.bucket === this`), which
 * is safe because a slot's count only grows during a pass, so it never comes back.
 * The `max*` fields are upper bounds of the members' remaining resources, tightened by
 * every full scan that finds nothing, so a container too big for all of them costs O(1).
 */
export class Bucket {
  private items: Slot[] = [];
  private stale = 0;
  private maxVcpus = 0;
  private maxRam = 0;
  private maxScratch = 0;
  private maxGpus = 0;

  constructor(
    readonly count: number,
    readonly ready: boolean,
  ) {}

  insert(s: Slot): void {
    const items = this.items;
    let lo = 0;
    let hi = items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareSlots(items[mid]!, s) < 0) lo = mid + 1;
      else hi = mid;
    }
    items.splice(lo, 0, s);
    s.bucket = this;
    const r = s.remaining;
    if (r.vcpus > this.maxVcpus) this.maxVcpus = r.vcpus;
    if (r.ram > this.maxRam) this.maxRam = r.ram;
    if (r.scratch > this.maxScratch) this.maxScratch = r.scratch;
    if (r.gpus > this.maxGpus) this.maxGpus = r.gpus;
  }

  remove(s: Slot): void {
    if (s.bucket !== this) return;
    s.bucket = null;
    this.stale++;
    if (this.stale > 32 && this.stale * 2 > this.items.length) {
      this.items = this.items.filter((x) => x.bucket === this);
      this.stale = 0;
    }
  }

  /** The first member after `after` (or the first member) whose remaining resources fit `need`. */
  firstFit(need: Resources, after: Slot | null): Slot | null {
    if (need.vcpus > this.maxVcpus || need.ram > this.maxRam || need.scratch > this.maxScratch || need.gpus > this.maxGpus) {
      return null;
    }
    const items = this.items;
    let i = 0;
    if (after !== null) {
      let hi = items.length;
      while (i < hi) {
        const mid = (i + hi) >> 1;
        if (compareSlots(items[mid]!, after) <= 0) i = mid + 1;
        else hi = mid;
      }
    }
    const full = i === 0;
    let mv = 0;
    let mr = 0;
    let ms = 0;
    let mg = 0;
    for (; i < items.length; i++) {
      const s = items[i]!;
      if (s.bucket !== this) continue;
      const r = s.remaining;
      if (accommodates(r, need)) return s;
      if (full) {
        if (r.vcpus > mv) mv = r.vcpus;
        if (r.ram > mr) mr = r.ram;
        if (r.scratch > ms) ms = r.scratch;
        if (r.gpus > mg) mg = r.gpus;
      }
    }
    if (full) {
      this.maxVcpus = mv;
      this.maxRam = mr;
      this.maxScratch = ms;
      this.maxGpus = mg;
    }
    return null;
  }
}

/**
 * The pass's instances, indexed by type name and (container count, readiness), so that
 * finding the reference's "best instance" for a container touches only instances of its
 * eligible types that could hold it, not every instance.
 */
export class InstanceIndex {
  readonly slots: Slot[] = [];
  private readonly byType = new Map<string, Bucket[]>();
  private seq = 0;

  /** @param maxPerInstance MaxRunningContainersPerInstance (0 = no limit). */
  constructor(private readonly maxPerInstance: number) {}

  /** Add a snapshot instance; `remaining` already reflects its running containers. */
  add(view: InstanceView, remaining: Resources): Slot {
    const s: Slot = {
      id: view.instanceId,
      type: view.instanceType,
      price: view.price,
      seq: this.seq++,
      state: view.state,
      idleBehavior: view.idleBehavior,
      remaining,
      uuids: [...view.runningContainerUuids],
      bucket: null,
    };
    this.slots.push(s);
    if (s.state !== 'shutdown' && s.idleBehavior === 'run') this.place(s);
    return s;
  }

  /** A pending create made in this pass, already holding `uuid`. */
  addCreated(type: InstanceType, uuid: string, need: Resources): Slot {
    const s: Slot = {
      id: '',
      type,
      price: type.price,
      seq: this.seq++,
      state: 'booting',
      idleBehavior: 'run',
      remaining: subtract(typeResources(type), need),
      uuids: [uuid],
      bucket: null,
    };
    this.slots.push(s);
    this.place(s);
    return s;
  }

  allocate(s: Slot, uuid: string, need: Resources): void {
    s.bucket?.remove(s);
    s.remaining = subtract(s.remaining, need);
    s.uuids.push(uuid);
    if (s.state !== 'shutdown' && s.idleBehavior === 'run') this.place(s);
  }

  /**
   * The reference's choice among instances of `types` that fit `need`: walking them in
   * instance order, a later one replaces the current best when it runs more containers,
   * or else when the best is not ready (booting/unknown) and it is (idle/running).
   * Computed as a few jumps ("next fitting instance with more containers / ready") instead
   * of a walk over every instance.
   */
  best(types: readonly InstanceType[], need: Resources): Slot | null {
    const lists: Bucket[][] = [];
    for (const t of types) {
      const l = this.byType.get(t.name);
      if (l !== undefined && l.length > 0) lists.push(l);
    }
    if (lists.length === 0) return null;
    let best: Slot | null = null;
    for (const l of lists) for (const b of l) best = earlier(best, b.firstFit(need, null));
    while (best !== null) {
      const cur: Slot = best;
      const count = cur.uuids.length;
      const ready = isReady(cur);
      let next: Slot | null = null;
      for (const l of lists) {
        for (const b of l) {
          if (b.count > count || (!ready && b.ready)) next = earlier(next, b.firstFit(need, cur));
        }
      }
      if (next === null) return cur;
      best = next;
    }
    return null;
  }

  private place(s: Slot): void {
    if (s.remaining.vcpus <= 0) return;
    const n = s.uuids.length;
    if (this.maxPerInstance > 0 && n >= this.maxPerInstance) return;
    let list = this.byType.get(s.type.name);
    if (list === undefined) {
      list = [];
      this.byType.set(s.type.name, list);
    }
    const ready = isReady(s);
    let b = list.find((x) => x.count === n && x.ready === ready);
    if (b === undefined) {
      b = new Bucket(n, ready);
      list.push(b);
    }
    b.insert(s);
  }
}

function earlier(a: Slot | null, b: Slot | null): Slot | null {
  if (a === null) return b;
  if (b === null) return a;
  return compareSlots(a, b) <= 0 ? a : b;
}
