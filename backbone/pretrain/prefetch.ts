/**
 * Keeps the next `depth` items in flight while the caller consumes the current one, so decoding and
 * augmentation (sharp's thread pool, or the augmentation workers) overlap with the training step.
 */
export class Prefetcher<T> {
  private readonly pending = new Map<number, Promise<T>>();
  private readonly make: (k: number) => Promise<T>;
  private readonly count: number;
  private readonly depth: number;

  constructor(make: (k: number) => Promise<T>, count: number, depth = 2) {
    this.make = make;
    this.count = count;
    this.depth = Math.max(1, depth);
  }

  /** Item k; starts k+1..k+depth. Items must be asked for in increasing order. */
  get(k: number): Promise<T> {
    for (let j = k; j < Math.min(this.count, k + 1 + this.depth); j++) {
      if (!this.pending.has(j)) {
        const p = this.make(j);
        // A rejected prefetch is reported when its item is asked for, not as an unhandled rejection.
        p.catch(() => undefined);
        this.pending.set(j, p);
      }
    }
    for (const j of this.pending.keys()) if (j < k) this.pending.delete(j);
    const item = this.pending.get(k)!;
    this.pending.delete(k);
    return item;
  }
}
