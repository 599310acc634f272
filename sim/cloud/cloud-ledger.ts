/** Why an instance went away. */
export type EndReason = 'destroyed' | 'died' | 'killed' | 'interrupted';

export type LedgerEventKind =
  | 'created'
  | 'booted'
  | 'ready'
  | 'first-container'
  | 'destroy-requested'
  | 'interruption-notice'
  | 'gone';

export interface LedgerEvent {
  readonly at: number;
  readonly instanceId: string;
  readonly kind: LedgerEventKind;
  /** For 'gone': the EndReason. */
  readonly detail?: string;
}

/** What the cloud knows about one instance of this account (ms since the epoch). */
export interface InstanceRecord {
  readonly instanceId: string;
  readonly typeName: string;
  readonly providerType: string;
  readonly preemptible: boolean;
  /** Billed per hour (spot price for preemptible instances). */
  readonly price: number;
  readonly broken: boolean;
  readonly createdAt: number;
  bootedAt: number | null;
  /** First successful `crunch-run --list` (or first container): the dispatcher can use it. */
  readonly readyAt: number | null;
  firstContainerAt: number | null;
  destroyRequestedAt: number | null;
  interruptionNoticeAt: number | null;
  goneAt: number | null;
  endReason: EndReason | null;
}

interface Rec extends InstanceRecord {
  readyAt: number | null;
  liveProcs: number;
  busySince: number;
  busyMs: number;
}

export interface InstanceCost {
  readonly instanceId: string;
  readonly typeName: string;
  /** ms billed: create → gone (or → t while it exists). */
  readonly billedMs: number;
  readonly total: number;
  /** Billed while ready with no crunch-run process alive. */
  readonly idle: number;
  /** Billed before ready (all of it for an instance that never became ready). */
  readonly booting: number;
}

export interface CloudTotals {
  /** Instances created by this account's dispatcher (foreign ones excluded). */
  readonly created: number;
  /** Destroy requests accepted. */
  readonly destroyed: number;
  readonly gone: number;
  /** Existing (not gone) at t: `leakedAtEnd` when t is the end. */
  readonly live: number;
  readonly peak: number;
  readonly died: number;
  readonly killed: number;
  readonly interrupted: number;
  readonly broken: number;
  /** Gone without ever becoming ready (boot failures from the cloud's point of view). */
  readonly goneNeverReady: number;
  readonly cost: {
    readonly total: number;
    readonly idle: number;
    readonly booting: number;
    readonly byInstanceType: Readonly<Record<string, number>>;
  };
}

const HOUR = 3_600_000;

/**
 * The simulated cloud's bill and life records: one record per instance the dispatcher
 * created, updated by the cloud and by the instance's VM. O(1) per update; `costs` and
 * `totals` are O(instances).
 */
export class CloudLedger {
  private readonly recs = new Map<string, Rec>();
  private readonly log: LedgerEvent[] = [];
  private liveCount = 0;
  /** Instances not gone yet, for O(live) sampling. */
  private readonly liveRecs = new Set<Rec>();
  /** Cost of gone instances, and Σ price/ms and Σ price/ms·createdAt of live ones: cost so far in O(1). */
  private closedCost = 0;
  private livePerMs = 0;
  private liveCreatedPerMs = 0;
  private peakCount = 0;

  opened(r: Omit<InstanceRecord, 'bootedAt' | 'readyAt' | 'firstContainerAt' | 'destroyRequestedAt' | 'interruptionNoticeAt' | 'goneAt' | 'endReason'>): void {
    this.recs.set(r.instanceId, {
      ...r,
      bootedAt: null,
      readyAt: null,
      firstContainerAt: null,
      destroyRequestedAt: null,
      interruptionNoticeAt: null,
      goneAt: null,
      endReason: null,
      liveProcs: 0,
      busySince: 0,
      busyMs: 0,
    });
    this.liveCount++;
    this.peakCount = Math.max(this.peakCount, this.liveCount);
    const rec = this.recs.get(r.instanceId)!;
    this.liveRecs.add(rec);
    this.livePerMs += r.price / HOUR;
    this.liveCreatedPerMs += (r.price / HOUR) * r.createdAt;
    this.event(r.createdAt, r.instanceId, 'created');
  }

  booted(id: string, at: number): void {
    const r = this.recs.get(id);
    if (r === undefined || r.bootedAt !== null) return;
    r.bootedAt = at;
    this.event(at, id, 'booted');
  }

  ready(id: string, at: number): void {
    const r = this.recs.get(id);
    if (r === undefined || r.readyAt !== null || r.goneAt !== null) return;
    r.readyAt = at;
    this.event(at, id, 'ready');
  }

  containerStarted(id: string, at: number): void {
    const r = this.recs.get(id);
    if (r === undefined || r.firstContainerAt !== null) return;
    this.ready(id, at);
    r.firstContainerAt = at;
    this.event(at, id, 'first-container');
  }

  busyChanged(id: string, liveProcs: number, at: number): void {
    const r = this.recs.get(id);
    if (r === undefined || r.goneAt !== null) return;
    if (liveProcs > 0) this.ready(id, at);
    if (r.liveProcs === 0 && liveProcs > 0) r.busySince = at;
    if (r.liveProcs > 0 && liveProcs === 0) r.busyMs += at - r.busySince;
    r.liveProcs = liveProcs;
  }

  destroyRequested(id: string, at: number): void {
    const r = this.recs.get(id);
    if (r === undefined || r.destroyRequestedAt !== null) return;
    r.destroyRequestedAt = at;
    this.event(at, id, 'destroy-requested');
  }

  interruptionNotice(id: string, at: number): void {
    const r = this.recs.get(id);
    if (r === undefined) return;
    r.interruptionNoticeAt = at;
    this.event(at, id, 'interruption-notice');
  }

  gone(id: string, at: number, reason: EndReason): void {
    const r = this.recs.get(id);
    if (r === undefined || r.goneAt !== null) return;
    this.busyChanged(id, 0, at);
    r.goneAt = at;
    r.endReason = reason;
    this.liveCount--;
    this.liveRecs.delete(r);
    this.livePerMs -= r.price / HOUR;
    this.liveCreatedPerMs -= (r.price / HOUR) * r.createdAt;
    this.closedCost += (r.price / HOUR) * Math.max(0, at - r.createdAt);
    this.event(at, id, 'gone', reason);
  }

  /** What the bill says at `t` (not before the latest update): O(1). */
  costSoFar(t: number): number {
    return this.closedCost + this.livePerMs * t - this.liveCreatedPerMs;
  }

  /** Existing instances by what they are doing now: O(live). */
  liveStates(): { booting: number; idle: number; busy: number; shutdown: number } {
    const c = { booting: 0, idle: 0, busy: 0, shutdown: 0 };
    for (const r of this.liveRecs) {
      if (r.destroyRequestedAt !== null) c.shutdown++;
      else if (r.liveProcs > 0) c.busy++;
      else if (r.readyAt === null) c.booting++;
      else c.idle++;
    }
    return c;
  }

  record(id: string): InstanceRecord | undefined {
    return this.recs.get(id);
  }

  records(): IterableIterator<InstanceRecord> {
    return this.recs.values();
  }

  /** Every event in time order (the order they happened). */
  events(): readonly LedgerEvent[] {
    return this.log;
  }

  /** Cost of each instance from its creation to its end, or to `t` while it exists. */
  costs(t: number): InstanceCost[] {
    const out: InstanceCost[] = [];
    for (const r of this.recs.values()) {
      if (r.createdAt > t) continue;
      out.push(costOf(r, t));
    }
    return out;
  }

  totals(t: number): CloudTotals {
    let created = 0,
      destroyed = 0,
      gone = 0,
      live = 0,
      died = 0,
      killed = 0,
      interrupted = 0,
      broken = 0,
      neverReady = 0,
      total = 0,
      idle = 0,
      booting = 0;
    const byType: Record<string, number> = {};
    for (const r of this.recs.values()) {
      if (r.createdAt > t) continue;
      created++;
      if (r.destroyRequestedAt !== null && r.destroyRequestedAt <= t) destroyed++;
      if (r.broken) broken++;
      if (r.goneAt !== null && r.goneAt <= t) {
        gone++;
        if (r.endReason === 'died') died++;
        if (r.endReason === 'killed') killed++;
        if (r.endReason === 'interrupted') interrupted++;
        if (r.readyAt === null) neverReady++;
      } else {
        live++;
      }
      const c = costOf(r, t);
      total += c.total;
      idle += c.idle;
      booting += c.booting;
      byType[r.typeName] = (byType[r.typeName] ?? 0) + c.total;
    }
    return {
      created,
      destroyed,
      gone,
      live,
      peak: this.peakCount,
      died,
      killed,
      interrupted,
      broken,
      goneNeverReady: neverReady,
      cost: { total, idle, booting, byInstanceType: byType },
    };
  }

  private event(at: number, instanceId: string, kind: LedgerEventKind, detail?: string): void {
    this.log.push(detail === undefined ? { at, instanceId, kind } : { at, instanceId, kind, detail });
  }
}

function costOf(r: Rec, t: number): InstanceCost {
  const end = r.goneAt !== null ? Math.min(r.goneAt, t) : t;
  const billedMs = Math.max(0, end - r.createdAt);
  const readyAt = r.readyAt !== null && r.readyAt <= end ? r.readyAt : null;
  const bootingMs = (readyAt ?? end) - r.createdAt;
  let idleMs = 0;
  if (readyAt !== null) {
    // Busy time up to `end`: closed intervals plus the open one, if any.
    let busy = r.busyMs;
    if (r.liveProcs > 0) busy += Math.max(0, end - r.busySince);
    idleMs = Math.max(0, end - readyAt - busy);
  }
  const perMs = r.price / HOUR;
  return {
    instanceId: r.instanceId,
    typeName: r.typeName,
    billedMs,
    total: billedMs * perMs,
    idle: idleMs * perMs,
    booting: Math.max(0, bootingMs) * perMs,
  };
}
