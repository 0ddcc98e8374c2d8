import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../core/rng.js';
import { decodeBoxesFlat, encodeBoxesFlat, RPN_BOX_WEIGHTS } from '../ops/box-coder.js';
import { boxIouFlat, clipBoxesInPlace, gatherRows, keepLargeBoxes } from '../ops/boxes.js';
import { argsortDescending, batchedNms, nmsFlat } from '../ops/nms.js';
import type { RpnConfig } from './config.js';
import { maskedBinaryCrossEntropyWithLogits, smoothL1Sum } from './losses.js';
import { BELOW_LOW, matchBoxes } from './matcher.js';
import { sampleBalanced } from './sampler.js';

export interface Proposals {
  /** [P * 4] boxes in the resized image's pixels, highest objectness first. */
  boxes: Float32Array;
  /** [P] objectness probabilities. */
  scores: Float32Array;
}

/** How many proposals an RPN keeps per image, and how it filters them. */
export interface ProposalOptions {
  preNmsTopN: number;
  postNmsTopN: number;
  nmsThreshold: number;
  minSize: number;
}

/**
 * One image's proposals (torchvision's filter_proposals): top `preNmsTopN` anchors by objectness,
 * decoded, clipped to the image, tiny boxes dropped, NMS, then the best `postNmsTopN`. Plain
 * typed-array work: a few thousand boxes are much cheaper here than as tensor ops.
 */
export function selectProposals(
  objectness: Float32Array,
  deltas: Float32Array,
  anchors: Float32Array,
  imageHw: readonly [number, number],
  opts: ProposalOptions & { detectron2Proposals?: boolean },
): Proposals {
  const order = argsortDescending(objectness).slice(0, opts.preNmsTopN);
  const topAnchors = gatherRows(anchors, order);
  const topDeltas = gatherRows(deltas, order);
  const boxes = clipBoxesInPlace(
    decodeBoxesFlat(topDeltas, topAnchors, RPN_BOX_WEIGHTS),
    imageHw[0],
    imageHw[1],
  );
  const scores = new Float32Array(order.length);
  for (let i = 0; i < order.length; i++) scores[i] = 1 / (1 + Math.exp(-objectness[order[i]]));
  if (opts.detectron2Proposals) {
    // detectron2's find_top_rpn_proposals: non-empty boxes (strictly wider and higher than
    // minSize), then batched_nms on the logits with one level, then the best postNmsTopN.
    const valid: number[] = [];
    for (let i = 0, k = 0; i < order.length; i++, k += 4) {
      if (boxes[k + 2] - boxes[k] > opts.minSize && boxes[k + 3] - boxes[k + 1] > opts.minSize) valid.push(i);
    }
    const logits = valid.map((i) => objectness[order[i]]);
    const kept = batchedNms(gatherRows(boxes, valid), logits, new Int32Array(valid.length), opts.nmsThreshold)
      .slice(0, opts.postNmsTopN)
      .map((j) => valid[j]);
    return { boxes: gatherRows(boxes, kept), scores: gatherRows(scores, kept, 1) };
  }
  const large = keepLargeBoxes(boxes, opts.minSize);
  const keep = nmsFlat(boxes, scores, opts.nmsThreshold, large).slice(0, opts.postNmsTopN);
  return { boxes: gatherRows(boxes, keep), scores: gatherRows(scores, keep, 1) };
}

/** Anchor labels and regression targets of one image for the RPN loss. */
export interface RpnTargets {
  /** Sampled anchor indices (within the image) and their 0/1 labels. */
  sampled: number[];
  labels: Float32Array;
  /** Sampled positives and their encoded GT boxes [P * 4]. */
  positives: number[];
  targets: Float32Array;
}

/** A balanced sampler (sampleBalanced's signature); tests inject one that replays torchvision's draws. */
export type Sampler = typeof sampleBalanced;

export function rpnTargets(
  anchors: Float32Array,
  gtBoxes: Float32Array,
  cfg: RpnConfig,
  rng: Rng,
  sampler: Sampler = sampleBalanced,
): RpnTargets {
  const numAnchors = anchors.length / 4;
  const numGt = gtBoxes.length / 4;
  const matches = matchBoxes(boxIouFlat(gtBoxes, anchors), numGt, numAnchors, {
    high: cfg.fgIou,
    low: cfg.bgIou,
    allowLowQuality: true,
  });
  const labels = new Int8Array(numAnchors);
  for (let i = 0; i < numAnchors; i++) {
    const m = matches[i];
    // between the thresholds: ignored (-1)
    labels[i] = m >= 0 ? 1 : m === BELOW_LOW ? 0 : -1;
  }
  const { positives, negatives } = sampler(labels, cfg.batchSizePerImage, cfg.positiveFraction, rng);
  const sampled = [...positives, ...negatives];
  const sampledLabels = new Float32Array(sampled.length);
  sampledLabels.fill(1, 0, positives.length);
  const matchedGt = gatherRows(
    gtBoxes,
    positives.map((i) => matches[i]),
  );
  const targets = encodeBoxesFlat(matchedGt, gatherRows(anchors, positives), RPN_BOX_WEIGHTS);
  return { sampled, labels: sampledLabels, positives, targets };
}

/**
 * RPN losses over a batch: objectness BCE over the sampled anchors (mean) and smooth-L1 on the
 * positives' deltas summed and divided by the number sampled, as torchvision.
 * `objectness` is [N * H * W * A] and `deltas` [N * H * W * A, 4], image-major.
 */
export function rpnLoss(
  objectness: tf.Tensor1D,
  deltas: tf.Tensor2D,
  perImage: RpnTargets[],
  anchorsPerImage: number,
): { objectness: tf.Scalar; box: tf.Scalar } {
  const total = anchorsPerImage * perImage.length;
  const weights = new Float32Array(total);
  const labels = new Float32Array(total);
  const boxMask = new Float32Array(total * 4);
  const targets = new Float32Array(total * 4);
  let sampled = 0;
  perImage.forEach((t, img) => {
    const offset = img * anchorsPerImage;
    t.sampled.forEach((a, i) => {
      weights[offset + a] = 1;
      labels[offset + a] = t.labels[i];
    });
    t.positives.forEach((a, i) => {
      boxMask.fill(1, 4 * (offset + a), 4 * (offset + a) + 4);
      targets.set(t.targets.subarray(4 * i, 4 * i + 4), 4 * (offset + a));
    });
    sampled += t.sampled.length;
  });
  return tf.tidy(() => {
    const cls = maskedBinaryCrossEntropyWithLogits(
      objectness,
      tf.tensor1d(labels),
      tf.tensor1d(weights),
      sampled,
    );
    const l1 = smoothL1Sum(deltas, tf.tensor2d(targets, [total, 4]), 1 / 9, tf.tensor2d(boxMask, [total, 4]));
    return { objectness: cls, box: tf.div(l1, Math.max(sampled, 1)) as tf.Scalar };
  });
}
