/**
 * resdet's seed mixers, both here so that there is one place to find them. They are two named
 * streams, not one, because checkpoints written by earlier versions resume bit-identically only
 * with the stream they were made with: deriveSeed for the data pipeline and the detector,
 * mixSeed for classifier pretraining.
 */

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

/**
 * Pretraining's mixer: integers (seed, epoch, ...) into a 32-bit seed, a murmur3-style finaliser
 * per step; a different stream from deriveSeed's for the same integers.
 */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h ^= p >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}
