import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { SortedIndex } from './sorted-index.js';

describe('SortedIndex', () => {
  it('agrees with a sorted array under random inserts and deletes', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 3000 })), { maxLength: 3000 }), (ops) => {
        const idx = new SortedIndex<{ k: number }>((a, b) => a.k - b.k);
        const model = new Map<number, { k: number }>();
        for (const [add, k] of ops) {
          if (add && !model.has(k)) {
            const item = { k };
            model.set(k, item);
            idx.insert(item);
          } else if (!add) {
            const item = model.get(k);
            expect(idx.delete(item ?? { k })).toBe(item !== undefined);
            model.delete(k);
          }
        }
        const want = [...model.keys()].sort((a, b) => a - b);
        expect([...idx.from()].map((x) => x.k)).toEqual(want);
        expect(idx.size).toBe(want.length);
        const mid = Math.floor(want.length / 2);
        expect([...idx.from(mid)].map((x) => x.k)).toEqual(want.slice(mid));
        expect(idx.at(mid)?.k).toBe(want[mid]);
        const probe = want[mid] ?? 0;
        expect(idx.lowerBound((x) => x.k < probe)).toBe(want.filter((k) => k < probe).length);
      }),
      { numRuns: 60 },
    );
  });

  it('splits and drops chunks at scale', () => {
    const idx = new SortedIndex<{ k: number }>((a, b) => a.k - b.k);
    const items = Array.from({ length: 5000 }, (_, i) => ({ k: (i * 7919) % 5000 }));
    for (const it of items) idx.insert(it);
    expect([...idx.from()].map((x) => x.k)).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    for (const it of items) if (it.k % 3 !== 0) expect(idx.delete(it)).toBe(true);
    const left = [...idx.from()].map((x) => x.k);
    expect(left).toEqual(Array.from({ length: 5000 }, (_, i) => i).filter((k) => k % 3 === 0));
    expect(idx.at(1000)?.k).toBe(3000);
    expect([...idx.from(1660)].map((x) => x.k)).toEqual([4980, 4983, 4986, 4989, 4992, 4995, 4998]);
  });
});
