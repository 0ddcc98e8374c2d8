import type { Rng } from '../../core/rng.js';

/**
 * Picks a mini-batch of at most `batchSize` labelled examples with at most `positiveFraction`
 * positives, the rest negatives, each drawn at random without replacement (torchvision's
 * BalancedPositiveNegativeSampler). `labels`: > 0 positive, 0 negative, < 0 ignored.
 */
export function sampleBalanced(
  labels: ArrayLike<number>,
  batchSize: number,
  positiveFraction: number,
  rng: Rng,
): { positives: number[]; negatives: number[] } {
  const pos: number[] = [];
  const neg: number[] = [];
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] > 0) pos.push(i);
    else if (labels[i] === 0) neg.push(i);
  }
  const numPos = Math.min(pos.length, Math.floor(batchSize * positiveFraction));
  const numNeg = Math.min(neg.length, batchSize - numPos);
  return { positives: pickRandom(pos, numPos, rng), negatives: pickRandom(neg, numNeg, rng) };
}

/** `k` distinct items of `items` (partial Fisher-Yates; `items` is reordered). */
function pickRandom(items: number[], k: number, rng: Rng): number[] {
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rng.next() * (items.length - i));
    const tmp = items[i];
    items[i] = items[j];
    items[j] = tmp;
  }
  return items.slice(0, k);
}
