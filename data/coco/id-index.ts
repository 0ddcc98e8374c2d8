/**
 * Position of each id in a list of ids, for lookups per detection (500k of them, twice each):
 * a typed table indexed by the id when the ids are small non-negative integers (COCO's are),
 * else a Map. Map lookups of numbers read from a Float64Array cost ~10x more.
 */
export interface IdIndex {
  /** The position of `id` in the ids given (the last, if repeated), or -1. */
  get(id: number): number;
}

/** A table up to this many entries (4 MiB; COCO's image ids stay below 600k), or 8 per id. */
const DENSE_LIMIT = 1 << 20;

export function idIndex(ids: Iterable<number>): IdIndex {
  const list = [...ids];
  let max = -1;
  let dense = true;
  for (const id of list) {
    if (!Number.isInteger(id) || id < 0) dense = false;
    else if (id > max) max = id;
  }
  if (dense && max < Math.max(DENSE_LIMIT, 8 * list.length)) {
    const table = new Int32Array(max + 1).fill(-1);
    for (let i = 0; i < list.length; i++) table[list[i]] = i;
    return {
      get(id: number): number {
        // A fraction, NaN or an id out of range reads undefined: not in the list.
        const at = table[id];
        return at === undefined ? -1 : at;
      },
    };
  }
  const map = new Map<number, number>();
  for (let i = 0; i < list.length; i++) map.set(list[i], i);
  return { get: (id: number) => map.get(id) ?? -1 };
}
