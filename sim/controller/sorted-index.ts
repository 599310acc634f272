/** Items per chunk before a split; small enough that a splice is a short memmove. */
const CHUNK = 512;

/**
 * A collection kept sorted by a total order, for the stub controller's indexes: a list of
 * sorted chunks (like Python's sortedcontainers), so insert and delete cost a binary search
 * plus a splice within one chunk, even at 100,000 entries; reads in order are cheap.
 *
 * The comparator must be total over the items stored (ties only for the same item), and an
 * item's sort key must not change while it is stored: delete, mutate, insert.
 */
export class SortedIndex<T> {
  private readonly chunks: T[][] = [];
  private count = 0;

  constructor(private readonly compare: (a: T, b: T) => number) {}

  get size(): number {
    return this.count;
  }

  /**
   * The first position whose item is not before the wanted point; `before(item)` is true
   * exactly for the items sorted before it.
   */
  lowerBound(before: (item: T) => boolean): number {
    const c = this.chunkIndex(before);
    let pos = 0;
    for (let i = 0; i < c; i++) pos += this.chunks[i]!.length;
    const chunk = this.chunks[c];
    return chunk === undefined ? pos : pos + search(chunk, before);
  }

  insert(item: T): void {
    const before = (x: T): boolean => this.compare(x, item) < 0;
    if (this.chunks.length === 0) {
      this.chunks.push([item]);
      this.count++;
      return;
    }
    let c = this.chunkIndex(before);
    if (c === this.chunks.length) c--;
    const chunk = this.chunks[c]!;
    chunk.splice(search(chunk, before), 0, item);
    this.count++;
    if (chunk.length > 2 * CHUNK) this.chunks.splice(c + 1, 0, chunk.splice(CHUNK));
  }

  /** Removes `item` (by identity); false when it was not stored. */
  delete(item: T): boolean {
    const before = (x: T): boolean => this.compare(x, item) < 0;
    const c = this.chunkIndex(before);
    const chunk = this.chunks[c];
    if (chunk === undefined) return false;
    const i = search(chunk, before);
    if (chunk[i] !== item) return false;
    chunk.splice(i, 1);
    this.count--;
    if (chunk.length === 0) this.chunks.splice(c, 1);
    return true;
  }

  at(i: number): T | undefined {
    for (const chunk of this.chunks) {
      if (i < chunk.length) return chunk[i];
      i -= chunk.length;
    }
    return undefined;
  }

  /** Items in order from position `start` (inclusive). Do not change the index while iterating. */
  *from(start = 0): IterableIterator<T> {
    let c = 0;
    while (c < this.chunks.length && start >= this.chunks[c]!.length) start -= this.chunks[c++]!.length;
    for (; c < this.chunks.length; c++, start = 0) {
      const chunk = this.chunks[c]!;
      for (let i = start; i < chunk.length; i++) yield chunk[i]!;
    }
  }

  /** The first chunk whose last item is not before the wanted point (chunks.length if none). */
  private chunkIndex(before: (item: T) => boolean): number {
    let lo = 0;
    let hi = this.chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const chunk = this.chunks[mid]!;
      if (before(chunk[chunk.length - 1]!)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

function search<T>(arr: readonly T[], before: (item: T) => boolean): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(arr[mid]!)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
