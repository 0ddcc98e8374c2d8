import { Rng } from '../../core/rng.js';
import { type Batch, memoryBatch, type Normalisation, type SmallAugment, writeShifted } from './augment.js';
import { type EvalTransform, fileEvalBatch, fileTrainBatch, type ScaleAugment } from './file-augment.js';
import type { ClassificationSet, MemorySet } from './types.js';

export interface AugmentPlan {
  /** Pad-crop-flip for in-memory sets (CIFAR, Fashion-MNIST). */
  small: SmallAugment;
  /** Scale augmentation for image files (ImageNet, folders). */
  scale: ScaleAugment;
  eval: EvalTransform;
}

/** A training batch of `set` at `indices`, augmented with randomness drawn from `seed` only. */
export function trainBatch(
  set: ClassificationSet,
  indices: ArrayLike<number>,
  norm: Normalisation,
  plan: AugmentPlan,
  seed: number,
): Promise<Batch> {
  const rng = new Rng(seed);
  if (set.kind === 'memory') return Promise.resolve(memoryBatch(set, indices, norm, plan.small, rng));
  return fileTrainBatch(set, indices, norm, plan.scale, rng);
}

/**
 * The 10 test crops of a small image: the padded image's four corners and centre, and their
 * mirrors (the paper's 10-crop testing, transposed to 32x32 inputs).
 */
function memoryTenCrop(set: MemorySet, indices: ArrayLike<number>, norm: Normalisation, pad: number): Batch {
  const { height: h, width: w, channels: c } = set;
  const n = indices.length;
  const per = h * w * c;
  const x = new Float32Array(n * 10 * per);
  const spots = [
    [-pad, -pad],
    [-pad, pad],
    [pad, -pad],
    [pad, pad],
    [0, 0],
  ];
  for (let b = 0; b < n; b++) {
    let k = 0;
    for (const flip of [false, true]) {
      for (const [dy, dx] of spots)
        writeShifted(set, indices[b], norm, dy, dx, flip, x, (b * 10 + k++) * per);
    }
  }
  const y = Int32Array.from(indices, (i) => set.labels[i]);
  return { x, y, shape: [n * 10, h, w, c] };
}

/** An evaluation batch: centre view, or 10 crops per image (consecutive) with `tenCrop`. */
export function evalBatch(
  set: ClassificationSet,
  indices: ArrayLike<number>,
  norm: Normalisation,
  plan: AugmentPlan,
  tenCrop: boolean,
): Promise<Batch> {
  if (set.kind === 'memory') {
    if (tenCrop) return Promise.resolve(memoryTenCrop(set, indices, norm, plan.small.pad));
    return Promise.resolve(memoryBatch(set, indices, norm, null, new Rng(0)));
  }
  return fileEvalBatch(set, indices, norm, plan.eval, tenCrop);
}
