/**
 * The element order of libstdc++'s unstable `std::sort`, which torch's CPU `Tensor.sort()` (not
 * stable by default) calls. It is deterministic, so where torchvision orders tied values through
 * such a sort (batched_nms's per-class path), following the same algorithm step by step reproduces
 * its output exactly: introsort (median-of-three pivot moved to the front, unguarded Hoare
 * partition, heapsort once the depth budget 2*floor(log2 n) is spent) on runs longer than 16,
 * then one insertion sort over everything. test/detection/ops-fuzz.test.ts checks it against torch
 * 1.13's `sort(descending=True)` (test/fixtures/torchvision/ops-fuzz/sort.json, batched_nms.json);
 * the heapsort fallback, which random inputs rarely reach, was compared once with g++'s
 * make_heap + sort_heap on tie-heavy inputs.
 *
 * `less(a, b)` is the strict weak order ("a goes before b"); `items` is sorted in place.
 */
export function stdSort<T>(items: T[], less: (a: T, b: T) => boolean): T[] {
  const n = items.length;
  if (n > 1) {
    introsortLoop(items, 0, n, 2 * (31 - Math.clz32(n)), less);
    finalInsertionSort(items, 0, n, less);
  }
  return items;
}

const THRESHOLD = 16;

function swap<T>(a: T[], i: number, j: number): void {
  const t = a[i];
  a[i] = a[j];
  a[j] = t;
}

function introsortLoop<T>(
  a: T[],
  first: number,
  last: number,
  depth: number,
  less: (x: T, y: T) => boolean,
): void {
  let end = last;
  let budget = depth;
  while (end - first > THRESHOLD) {
    if (budget === 0) {
      heapSort(a, first, end, less);
      return;
    }
    budget--;
    const cut = partitionPivot(a, first, end, less);
    introsortLoop(a, cut, end, budget, less);
    end = cut;
  }
}

function partitionPivot<T>(a: T[], first: number, last: number, less: (x: T, y: T) => boolean): number {
  const mid = first + Math.floor((last - first) / 2);
  moveMedianToFirst(a, first, first + 1, mid, last - 1, less);
  return unguardedPartition(a, first + 1, last, first, less);
}

function moveMedianToFirst<T>(
  a: T[],
  result: number,
  x: number,
  y: number,
  z: number,
  less: (p: T, q: T) => boolean,
): void {
  let pick: number;
  if (less(a[x], a[y])) {
    if (less(a[y], a[z])) pick = y;
    else if (less(a[x], a[z])) pick = z;
    else pick = x;
  } else if (less(a[x], a[z])) pick = x;
  else if (less(a[y], a[z])) pick = z;
  else pick = y;
  swap(a, result, pick);
}

function unguardedPartition<T>(
  a: T[],
  first: number,
  last: number,
  pivot: number,
  less: (x: T, y: T) => boolean,
): number {
  let lo = first;
  let hi = last;
  for (;;) {
    while (less(a[lo], a[pivot])) lo++;
    hi--;
    while (less(a[pivot], a[hi])) hi--;
    if (!(lo < hi)) return lo;
    swap(a, lo, hi);
    lo++;
  }
}

function finalInsertionSort<T>(a: T[], first: number, last: number, less: (x: T, y: T) => boolean): void {
  if (last - first > THRESHOLD) {
    insertionSort(a, first, first + THRESHOLD, less);
    for (let i = first + THRESHOLD; i < last; i++) unguardedLinearInsert(a, i, less);
  } else insertionSort(a, first, last, less);
}

function insertionSort<T>(a: T[], first: number, last: number, less: (x: T, y: T) => boolean): void {
  for (let i = first + 1; i < last; i++) {
    if (less(a[i], a[first])) {
      const v = a[i];
      for (let j = i; j > first; j--) a[j] = a[j - 1];
      a[first] = v;
    } else unguardedLinearInsert(a, i, less);
  }
}

function unguardedLinearInsert<T>(a: T[], last: number, less: (x: T, y: T) => boolean): void {
  const v = a[last];
  let hole = last;
  while (less(v, a[hole - 1])) {
    a[hole] = a[hole - 1];
    hole--;
  }
  a[hole] = v;
}

// Heapsort as libstdc++'s __make_heap / __pop_heap / __adjust_heap / __push_heap (offsets from `first`).

function adjustHeap<T>(
  a: T[],
  first: number,
  start: number,
  length: number,
  value: T,
  less: (x: T, y: T) => boolean,
): void {
  const top = start;
  let hole = start;
  let child = start;
  while (child < Math.floor((length - 1) / 2)) {
    child = 2 * (child + 1);
    if (less(a[first + child], a[first + child - 1])) child--;
    a[first + hole] = a[first + child];
    hole = child;
  }
  if ((length & 1) === 0 && child === Math.floor((length - 2) / 2)) {
    child = 2 * (child + 1);
    a[first + hole] = a[first + child - 1];
    hole = child - 1;
  }
  let parent = Math.floor((hole - 1) / 2);
  while (hole > top && less(a[first + parent], value)) {
    a[first + hole] = a[first + parent];
    hole = parent;
    parent = Math.floor((hole - 1) / 2);
  }
  a[first + hole] = value;
}

function heapSort<T>(a: T[], first: number, last: number, less: (x: T, y: T) => boolean): void {
  const length = last - first;
  if (length >= 2) {
    for (let parent = Math.floor((length - 2) / 2); parent >= 0; parent--) {
      adjustHeap(a, first, parent, length, a[first + parent], less);
    }
  }
  for (let end = last; end - first > 1; ) {
    end--;
    const v = a[end];
    a[end] = a[first];
    adjustHeap(a, first, 0, end - first, v, less);
  }
}
