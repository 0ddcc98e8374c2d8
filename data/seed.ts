/**
 * Derives independent 32-bit seeds from one user seed and a few integers (epoch, image index, ...),
 * so that per-image randomness does not depend on the order in which images are processed.
 * (A murmur3-style finaliser over the keys; good enough to decorrelate mulberry32 streams.)
 */
export function deriveSeed(seed: number, ...keys: number[]): number {
  let h = (seed >>> 0) ^ 0x9e3779b9;
  for (const k of keys) {
    h = Math.imul(h ^ (k >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}
