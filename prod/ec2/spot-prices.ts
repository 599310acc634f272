import type { InstancePrice } from '../../core/ports/instance-set.js';

/**
 * Only price changes, oldest first, each at the earliest time it was seen
 * (Arvados `cloud.NormalizePriceHistory`, but in the port's order: newest last).
 * Points with a time already seen are dropped.
 */
export function normalizePriceHistory(prices: readonly InstancePrice[]): InstancePrice[] {
  const sorted = [...prices].sort((a, b) => a.startTime - b.startTime);
  const out: InstancePrice[] = [];
  for (const p of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && (last.startTime === p.startTime || last.price === p.price)) continue;
    out.push(p);
  }
  return out;
}

interface Entry {
  /** When this (type, zone) was last refreshed (ms). */
  updated: number;
  prices: InstancePrice[];
}

export interface SpotPricePoint {
  readonly providerType: string;
  readonly availabilityZone: string;
  readonly startTime: number;
  readonly price: number;
}

/**
 * Spot price history per (instance type, availability zone), refreshed when older than the
 * update interval; entries not refreshed for 64 intervals are dropped (types no longer in
 * use), as Arvados does.
 */
export class SpotPriceCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly intervalMs: number) {}

  private static key(providerType: string, zone: string): string {
    return `${providerType}\u0000${zone}`;
  }

  /** The types among `inUse` whose prices are missing or older than the interval. */
  staleTypes(inUse: Iterable<{ providerType: string; availabilityZone: string }>, now: number): string[] {
    if (this.intervalMs <= 0) return [];
    const stale = new Set<string>();
    for (const u of inUse) {
      const e = this.entries.get(SpotPriceCache.key(u.providerType, u.availabilityZone));
      if (e === undefined || now - e.updated >= this.intervalMs) stale.add(u.providerType);
    }
    return [...stale].sort();
  }

  /** How far back a refresh asks for history: three intervals, as Arvados does. */
  lookbackMs(): number {
    return 3 * this.intervalMs;
  }

  /**
   * Records a refresh of the types of `refreshed`: each of those (type, zone) pairs counts
   * as fresh even when the cloud returned no points for it, points are merged with what
   * was known, and entries idle for 64 intervals are dropped.
   */
  update(
    refreshed: Iterable<{ providerType: string; availabilityZone: string }>,
    points: readonly SpotPricePoint[],
    now: number,
  ): void {
    for (const r of refreshed) {
      const k = SpotPriceCache.key(r.providerType, r.availabilityZone);
      const e = this.entries.get(k);
      if (e === undefined) this.entries.set(k, { updated: now, prices: [] });
      else e.updated = now;
    }
    const byKey = new Map<string, InstancePrice[]>();
    for (const p of points) {
      const k = SpotPriceCache.key(p.providerType, p.availabilityZone);
      let list = byKey.get(k);
      if (list === undefined) byKey.set(k, (list = []));
      list.push({ startTime: p.startTime, price: p.price });
    }
    for (const [k, list] of byKey) {
      const old = this.entries.get(k)?.prices ?? [];
      this.entries.set(k, { updated: now, prices: normalizePriceHistory([...old, ...list]) });
    }
    for (const [k, e] of this.entries) {
      if (now - e.updated > 64 * this.intervalMs) this.entries.delete(k);
    }
  }

  /** Known prices for a type in a zone, oldest first; [] when unknown. */
  get(providerType: string, zone: string): readonly InstancePrice[] {
    return this.entries.get(SpotPriceCache.key(providerType, zone))?.prices ?? [];
  }
}
