import { describe, expect, it } from 'vitest';
import { normalizePriceHistory, SpotPriceCache } from './spot-prices.js';

describe('spot prices', () => {
  it('normalizePriceHistory keeps price changes, oldest first, each at its earliest time', () => {
    expect(
      normalizePriceHistory([
        { startTime: 30, price: 2 },
        { startTime: 10, price: 1 },
        { startTime: 20, price: 1 },
        { startTime: 30, price: 3 },
        { startTime: 40, price: 1 },
      ]),
    ).toEqual([
      { startTime: 10, price: 1 },
      { startTime: 30, price: 2 },
      { startTime: 40, price: 1 },
    ]);
  });

  it('the cache goes stale after the interval, merges points, and drops idle entries', () => {
    const c = new SpotPriceCache(1000);
    const use = [{ providerType: 'm5.large', availabilityZone: 'z1' }];
    expect(c.staleTypes(use, 0)).toEqual(['m5.large']);
    c.update(use, [{ providerType: 'm5.large', availabilityZone: 'z1', startTime: 0, price: 0.1 }], 0);
    expect(c.staleTypes(use, 999)).toEqual([]);
    expect(c.staleTypes(use, 1000)).toEqual(['m5.large']);
    c.update(use, [{ providerType: 'm5.large', availabilityZone: 'z1', startTime: 500, price: 0.2 }], 1000);
    expect(c.get('m5.large', 'z1')).toEqual([
      { startTime: 0, price: 0.1 },
      { startTime: 500, price: 0.2 },
    ]);
    expect(c.get('m5.large', 'z2')).toEqual([]);
    c.update([], [], 1000 + 64 * 1000 + 1);
    expect(c.get('m5.large', 'z1')).toEqual([]);
  });

  it('an interval of 0 never asks for prices', () => {
    expect(new SpotPriceCache(0).staleTypes([{ providerType: 'x', availabilityZone: 'z' }], 0)).toEqual([]);
  });
});
