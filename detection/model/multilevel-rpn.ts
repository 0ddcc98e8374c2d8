import * as tf from '@tensorflow/tfjs';
import type { ParamStore } from '../../backbone/params.js';
import type { Rng } from '../../core/rng.js';
import { cellAnchorsFlat, gridAnchorsFlat } from '../ops/anchors.js';
import { decodeBoxesFlat, RPN_BOX_WEIGHTS } from '../ops/box-coder.js';
import { clipBoxesInPlace, gatherRows, keepLargeBoxes } from '../ops/boxes.js';
import { batchedNms } from '../ops/nms.js';
import type { RpnConfig } from './config.js';
import { BiasedConv } from './layers.js';
import {
  type ProposalOptions,
  type Proposals,
  type RpnTargets,
  rpnLoss,
  rpnTargets,
  type Sampler,
  selectProposals,
} from './rpn.js';

/** A box set of one image with where its rows came from. */
export interface LevelProposals extends Proposals {
  /** Pyramid level of each proposal (0-based). */
  levels: Int32Array;
}

export interface RpnResult {
  proposals: LevelProposals[];
  /** Anchors of one image, all levels concatenated ('0' .. 'pool'), flat [A * 4]. */
  anchors: Float32Array;
  /** Anchors per level. */
  anchorsPerLevel: number[];
}

/**
 * torchvision's RPNHead shared by every level: `convDepth` 3x3 conv + ReLU (with bias, no norm:
 * v1 has one, v2 two), then 1x1 convs for A objectness logits and 4A deltas per cell.
 */
export class MultiLevelRpnHead {
  private readonly convs: BiasedConv[] = [];
  readonly clsLogits: BiasedConv;
  readonly bboxPred: BiasedConv;

  constructor(
    store: ParamStore,
    channels: number,
    numAnchors: number,
    convDepth: number,
    rng: Rng,
    convName: (i: number) => string = (i) => `rpn.head.conv.${i}.0`,
  ) {
    for (let i = 0; i < convDepth; i++)
      this.convs.push(new BiasedConv(store, convName(i), 3, channels, channels, rng, 0.01));
    this.clsLogits = new BiasedConv(store, 'rpn.head.cls_logits', 1, channels, numAnchors, rng, 0.01);
    this.bboxPred = new BiasedConv(store, 'rpn.head.bbox_pred', 1, channels, 4 * numAnchors, rng, 0.01);
  }

  apply(feature: tf.Tensor4D): { objectness: tf.Tensor4D; deltas: tf.Tensor4D } {
    const t = this.convs.reduce((x, conv) => conv.apply(x, true), feature);
    return { objectness: this.clsLogits.apply(t), deltas: this.bboxPred.apply(t) };
  }
}

/**
 * How one assembly lays out its RPN where it differs from torchvision's FPN one. The paper's C4
 * detector is this `Rpn` on one level: its own cell anchors (detectron2's layout possible), a fixed
 * anchor stride if its config names one, the head conv under its old name ("rpn.head.conv"), and
 * one-level proposal selection (selectProposals: torchvision's or detectron2's filtering).
 */
export interface RpnLayout {
  /** Cell anchors per level (default: one size per level, torchvision's layout). */
  cellAnchors?: readonly Float32Array[];
  /** Anchor stride in pixels (default: padded size // grid size, torchvision's rule). */
  fixedStride?: number;
  /** State-dict name of head conv i (default: torchvision's "rpn.head.conv.<i>.0"). */
  convName?: (i: number) => string;
  /** Select proposals as one level (selectProposals), as the C4 detector always has. */
  singleLevel?: boolean;
}

/**
 * torchvision's RegionProposalNetwork over a feature pyramid: anchors per level (one size per
 * level, ratio-major, torch.round'ed cell anchors, stride = padded size // grid), top-k by
 * objectness logit per level, sigmoid, clip, small boxes (< minSize) dropped, score >= threshold,
 * NMS per level (batched_nms with the level as the class), then the best postNmsTopN overall.
 * Training adds the anchor targets (Matcher 0.7/0.3 with low-quality matches, 256 sampled at
 * 0.5 positive) and the losses (BCE-with-logits; smooth L1 beta 1/9 summed / sampled count).
 */
export class Rpn {
  readonly head: MultiLevelRpnHead;
  readonly config: RpnConfig & { scoreThreshold: number };
  private readonly cellAnchors: readonly Float32Array[];
  private readonly layout: RpnLayout;
  private readonly anchorCache = new Map<string, { anchors: Float32Array; perLevel: number[] }>();

  constructor(
    store: ParamStore,
    channels: number,
    anchorSizes: readonly number[],
    aspectRatios: readonly number[],
    convDepth: number,
    config: RpnConfig & { scoreThreshold: number },
    rng: Rng,
    layout: RpnLayout = {},
  ) {
    this.config = config;
    this.layout = layout;
    this.cellAnchors = layout.cellAnchors ?? anchorSizes.map((s) => cellAnchorsFlat([s], aspectRatios));
    const numAnchors = this.cellAnchors[0].length / 4;
    this.head = new MultiLevelRpnHead(store, channels, numAnchors, convDepth, rng, layout.convName);
  }

  /** All levels' anchors for one image of the padded batch size [ph, pw]. */
  anchors(
    grids: readonly (readonly [number, number])[],
    ph: number,
    pw: number,
  ): { anchors: Float32Array; perLevel: number[] } {
    const key = `${grids.map((g) => g.join('x')).join(',')}/${ph}x${pw}`;
    let hit = this.anchorCache.get(key);
    if (!hit) {
      const fixed = this.layout.fixedStride;
      const levels = grids.map(([fh, fw], l) =>
        gridAnchorsFlat(
          this.cellAnchors[l],
          fh,
          fw,
          fixed ?? Math.floor(ph / fh),
          fixed ?? Math.floor(pw / fw),
        ),
      );
      const anchors = new Float32Array(levels.reduce((a, l) => a + l.length, 0));
      let o = 0;
      for (const l of levels) {
        anchors.set(l, o);
        o += l.length;
      }
      hit = { anchors, perLevel: levels.map((l) => l.length / 4) };
      this.anchorCache.set(key, hit);
    }
    return hit;
  }

  /**
   * The head over every level: objectness [N, total] and deltas [N, total, 4], levels concatenated
   * '0' .. 'pool', each in (y, x, anchor) order (synchronous: it runs on the gradient tape).
   */
  heads(features: readonly tf.Tensor4D[]): { objectness: tf.Tensor2D; deltas: tf.Tensor3D } {
    return tf.tidy(() => {
      const n = features[0].shape[0];
      const out = features.map((f) => this.head.apply(f));
      return {
        objectness: tf.concat(
          out.map((h) => tf.reshape(h.objectness, [n, -1])),
          1,
        ) as tf.Tensor2D,
        deltas: tf.concat(
          out.map((h) => tf.reshape(h.deltas, [n, -1, 4])),
          1,
        ) as tf.Tensor3D,
      };
    });
  }

  /** Reads the heads' outputs (one transfer) and selects each image's proposals on the CPU. */
  async propose(
    objectness: tf.Tensor2D,
    deltas: tf.Tensor3D,
    grids: readonly (readonly [number, number])[],
    imageSizes: readonly (readonly [number, number])[],
    paddedHw: readonly [number, number],
    training: boolean,
  ): Promise<RpnResult> {
    const { anchors, perLevel } = this.anchors(grids, paddedHw[0], paddedHw[1]);
    const total = anchors.length / 4;
    const both = tf.tidy(() => tf.concat([tf.reshape(objectness, [-1]), tf.reshape(deltas, [-1])]));
    const values = (await both.data()) as Float32Array;
    both.dispose();
    const obj = values.subarray(0, objectness.size);
    const del = values.subarray(objectness.size);
    const cfg = this.config;
    const opts = {
      preNmsTopN: training ? cfg.preNmsTopNTrain : cfg.preNmsTopNTest,
      postNmsTopN: training ? cfg.postNmsTopNTrain : cfg.postNmsTopNTest,
      nmsThreshold: cfg.nmsThreshold,
      minSize: cfg.minSize,
      scoreThreshold: cfg.scoreThreshold,
    };
    if (this.layout.singleLevel) {
      const one = { ...opts, detectron2Proposals: cfg.detectron2Proposals };
      const proposals = imageSizes.map((hw, i) => {
        const p = selectProposals(
          obj.subarray(i * total, (i + 1) * total),
          del.subarray(4 * i * total, 4 * (i + 1) * total),
          anchors,
          hw,
          one,
        );
        return { ...p, levels: new Int32Array(p.scores.length) };
      });
      return { proposals, anchors, anchorsPerLevel: perLevel };
    }
    const proposals = imageSizes.map((hw, i) =>
      selectLevelProposals(
        obj.subarray(i * total, (i + 1) * total),
        del.subarray(4 * i * total, 4 * (i + 1) * total),
        anchors,
        perLevel,
        hw,
        opts,
      ),
    );
    return { proposals, anchors, anchorsPerLevel: perLevel };
  }

  /** One image's anchor targets (Matcher 0.7 / 0.3 with low-quality matches, balanced sample). */
  targets(anchors: Float32Array, gtBoxes: Float32Array, rng: Rng, sampler?: Sampler): RpnTargets {
    return rpnTargets(anchors, gtBoxes, this.config, rng, sampler);
  }

  /** The two RPN losses of a batch from the heads' outputs (on the tape). */
  loss(
    objectness: tf.Tensor2D,
    deltas: tf.Tensor3D,
    perImage: RpnTargets[],
    anchorsPerImage: number,
  ): { loss_objectness: tf.Scalar; loss_rpn_box_reg: tf.Scalar } {
    const l = rpnLoss(
      tf.reshape(objectness, [-1]) as tf.Tensor1D,
      tf.reshape(deltas, [-1, 4]) as tf.Tensor2D,
      perImage,
      anchorsPerImage,
    );
    return { loss_objectness: l.objectness, loss_rpn_box_reg: l.box };
  }
}

/** Indices of the k largest values, descending (torch.topk; ties lower index first). */
function topK(values: Float32Array, offset: number, count: number, k: number): number[] {
  const idx = Array.from({ length: count }, (_, i) => offset + i);
  idx.sort((a, b) => values[b] - values[a] || a - b);
  return idx.slice(0, k);
}

/** torchvision's filter_proposals for one image. */
export function selectLevelProposals(
  objectness: Float32Array,
  deltas: Float32Array,
  anchors: Float32Array,
  anchorsPerLevel: readonly number[],
  imageHw: readonly [number, number],
  opts: ProposalOptions & { scoreThreshold: number },
): LevelProposals {
  const order: number[] = [];
  const levelOf: number[] = [];
  let offset = 0;
  anchorsPerLevel.forEach((count, level) => {
    for (const i of topK(objectness, offset, count, Math.min(opts.preNmsTopN, count))) {
      order.push(i);
      levelOf.push(level);
    }
    offset += count;
  });
  const boxes = clipBoxesInPlace(
    decodeBoxesFlat(gatherRows(deltas, order), gatherRows(anchors, order), RPN_BOX_WEIGHTS),
    imageHw[0],
    imageHw[1],
  );
  const scores = new Float32Array(order.length);
  for (let i = 0; i < order.length; i++) scores[i] = 1 / (1 + Math.exp(-objectness[order[i]]));
  const keep = keepLargeBoxes(boxes, opts.minSize).filter((i) => scores[i] >= opts.scoreThreshold);
  const kept = gatherRows(boxes, keep);
  const keptScores = gatherRows(scores, keep, 1);
  const keptLevels = keep.map((i) => levelOf[i]);
  const nmsKeep = batchedNms(kept, keptScores, keptLevels, opts.nmsThreshold).slice(0, opts.postNmsTopN);
  return {
    boxes: gatherRows(kept, nmsKeep),
    scores: gatherRows(keptScores, nmsKeep, 1),
    levels: Int32Array.from(nmsKeep, (i) => keptLevels[i]),
  };
}
