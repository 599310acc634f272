// Recent container arrivals per instance type, carried from pass to pass in the scheduler
// state so that a policy stays a pure function of its input.
import type { QueueSnapshot } from '../../queue/queue-snapshot.js';

/** Arrivals kept at most, whatever the window: bounds the state at any arrival rate. */
export const MAX_ARRIVALS_KEPT = 4096;

export interface Arrival {
  /** The container's cheapest eligible type. */
  readonly type: string;
  /** ms since the epoch (the entry's firstSeenAt). */
  readonly at: number;
}

/** Arrivals seen within the window, oldest first, and the newest arrival time accounted for. */
export interface ArrivalWindow {
  readonly arrivals: readonly Arrival[];
  readonly seenUpTo: number;
}

export const EMPTY_WINDOW: ArrivalWindow = Object.freeze({ arrivals: Object.freeze([]) as readonly Arrival[], seenUpTo: 0 });

/**
 * The window after this pass: arrivals older than `now - windowMs` dropped, entries first
 * seen after `prev.seenUpTo` added. An entry seen in several passes counts once, because
 * firstSeenAt never changes; after a dispatcher restart the queue is new and so is the
 * state, so nothing is counted twice.
 */
export function advanceWindow(prev: ArrivalWindow, queue: QueueSnapshot, now: number, windowMs: number): ArrivalWindow {
  const from = now - windowMs;
  const fresh: Arrival[] = [];
  let seenUpTo = prev.seenUpTo;
  for (const ent of queue.entries.values()) {
    if (ent.firstSeenAt <= prev.seenUpTo || ent.firstSeenAt < from) continue;
    const t = ent.instanceTypes[0];
    if (t === undefined) continue;
    fresh.push({ type: t.name, at: ent.firstSeenAt });
    if (ent.firstSeenAt > seenUpTo) seenUpTo = ent.firstSeenAt;
  }
  if (fresh.length === 0 && (prev.arrivals.length === 0 || prev.arrivals[0]!.at >= from)) return prev.seenUpTo === seenUpTo ? prev : { ...prev, seenUpTo };
  // Deterministic whatever the snapshot's order: by time, then type.
  fresh.sort((a, b) => a.at - b.at || (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
  const kept = prev.arrivals.filter((a) => a.at >= from);
  const all = kept.concat(fresh);
  return { arrivals: all.length > MAX_ARRIVALS_KEPT ? all.slice(all.length - MAX_ARRIVALS_KEPT) : all, seenUpTo };
}

/** Arrivals per type within the window. */
export function countByType(w: ArrivalWindow): Map<string, number> {
  const m = new Map<string, number>();
  for (const a of w.arrivals) m.set(a.type, (m.get(a.type) ?? 0) + 1);
  return m;
}
