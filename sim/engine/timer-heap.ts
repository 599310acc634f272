/**
 * A binary min-heap keyed by (time, seq), stored as parallel arrays: keys live in typed
 * arrays so that sifting compares contiguous doubles instead of chasing one object per
 * entry, which is what dominates with millions of pending timers.
 *
 * `seq` must be unique per pushed item (the event engine uses a counter): it makes the order
 * total, so entries due at the same time come out in push order.
 */
export class TimerHeap<T> {
  private times: Float64Array;
  private seqs: Float64Array;
  private items: (T | undefined)[];
  private n = 0;

  constructor(initialCapacity = 1024) {
    const cap = Math.max(16, initialCapacity);
    this.times = new Float64Array(cap);
    this.seqs = new Float64Array(cap);
    this.items = new Array<T | undefined>(cap);
  }

  get size(): number {
    return this.n;
  }

  /** Time of the smallest entry; only meaningful when size > 0. */
  topTime(): number {
    return this.times[0]!;
  }

  topItem(): T | undefined {
    return this.n > 0 ? this.items[0] : undefined;
  }

  push(time: number, seq: number, item: T): void {
    if (this.n === this.times.length) this.grow();
    const times = this.times;
    const seqs = this.seqs;
    const items = this.items;
    let i = this.n++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = times[p]!;
      if (pt < time || (pt === time && seqs[p]! < seq)) break;
      times[i] = pt;
      seqs[i] = seqs[p]!;
      items[i] = items[p];
      i = p;
    }
    times[i] = time;
    seqs[i] = seq;
    items[i] = item;
  }

  /** Removes and returns the smallest entry's item. */
  pop(): T | undefined {
    if (this.n === 0) return undefined;
    const items = this.items;
    const top = items[0];
    const last = --this.n;
    if (last > 0) this.siftDown(0, this.times[last]!, this.seqs[last]!, items[last]);
    items[last] = undefined; // let the item be collected
    return top;
  }

  /** Removes every item matching `pred` (O(n)), keeping the heap order. */
  removeWhere(pred: (item: T) => boolean): void {
    let j = 0;
    for (let i = 0; i < this.n; i++) {
      const item = this.items[i] as T;
      if (pred(item)) continue;
      this.times[j] = this.times[i]!;
      this.seqs[j] = this.seqs[i]!;
      this.items[j] = item;
      j++;
    }
    for (let i = j; i < this.n; i++) this.items[i] = undefined;
    this.n = j;
    for (let i = (j >> 1) - 1; i >= 0; i--) {
      this.siftDown(i, this.times[i]!, this.seqs[i]!, this.items[i]);
    }
  }

  /** Places (time, seq, item) at hole `i` or below, moving smaller children up. */
  private siftDown(i: number, time: number, seq: number, item: T | undefined): void {
    const times = this.times;
    const seqs = this.seqs;
    const items = this.items;
    const n = this.n;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      let ct = times[l]!;
      if (r < n) {
        const rt = times[r]!;
        if (rt < ct || (rt === ct && seqs[r]! < seqs[l]!)) {
          c = r;
          ct = rt;
        }
      }
      if (time < ct || (time === ct && seq < seqs[c]!)) break;
      times[i] = ct;
      seqs[i] = seqs[c]!;
      items[i] = items[c];
      i = c;
    }
    times[i] = time;
    seqs[i] = seq;
    items[i] = item;
  }

  private grow(): void {
    const cap = this.times.length * 2;
    const times = new Float64Array(cap);
    times.set(this.times);
    const seqs = new Float64Array(cap);
    seqs.set(this.seqs);
    this.times = times;
    this.seqs = seqs;
    this.items.length = cap;
  }
}
