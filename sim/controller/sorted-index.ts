/**
 * An array kept sorted by a total order, for the stub controller's indexes. Insert and
 * delete are a binary search plus one splice (a memmove), which stays in the microseconds
 * at 100,000 entries; reads in order are free.
 *
 * The comparator must be total over the items stored (ties only for the same item), and an
 * item's sort key must not change while it is stored: delete, mutate, insert.
 */
export class SortedIndex<T> {
  private readonly items: T[] = [];

  constructor(private readonly compare: (a: T, b: T) => number) {}

  get size(): number {
    return this.items.length;
  }

  /** First position whose item is not before `probe`. */
  lowerBound(probe: (item: T) => boolean): number {
    // `probe(item)` is true while item sorts before the wanted position.
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (probe(this.items[mid]!)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  insert(item: T): void {
    const i = this.lowerBound((x) => this.compare(x, item) < 0);
    this.items.splice(i, 0, item);
  }

  /** Removes `item` (by identity); false when it was not stored. */
  delete(item: T): boolean {
    let i = this.lowerBound((x) => this.compare(x, item) < 0);
    while (i < this.items.length && this.compare(this.items[i]!, item) === 0) {
      if (this.items[i] === item) {
        this.items.splice(i, 1);
        return true;
      }
      i++;
    }
    return false;
  }

  at(i: number): T | undefined {
    return this.items[i];
  }

  /** Items in order from position `start` (inclusive). */
  *from(start = 0): IterableIterator<T> {
    for (let i = start; i < this.items.length; i++) yield this.items[i]!;
  }
}
