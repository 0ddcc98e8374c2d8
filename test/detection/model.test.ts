import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../core/backend.js';
import { Rng } from '../../core/rng.js';
import {
  detectorConfig,
  FasterRCNN,
  type ImageBatch,
  loadDetector,
  saveDetector,
} from '../../detection/index.js';
import { lossValuesOf } from '../../detection/model/faster-rcnn.js';
import { BELOW_LOW, BETWEEN, matchBoxes } from '../../detection/model/matcher.js';
import { postprocessDetections } from '../../detection/model/roi-heads.js';
import { sampleBalanced } from '../../detection/model/sampler.js';

// Unit tests of the detector's parts and of the whole model on a tiny ResNet-18 (8 channels in
// its first stage) and 64-px images on the cpu backend.

const tmp = mkdtempSync(join(tmpdir(), 'resdet-det-model-'));

function tinyModel(seed = 0): FasterRCNN {
  return new FasterRCNN(
    detectorConfig({
      arch: 'resnet18',
      baseWidth: 8,
      numClasses: 3,
      frozenBn: false,
      freezeAt: 0,
      anchorSizes: [16, 32],
      aspectRatios: [1],
      rpn: { preNmsTopNTrain: 200, postNmsTopNTrain: 50, preNmsTopNTest: 100, postNmsTopNTest: 20 },
      roiHeads: { poolSize: 4, batchSizePerImage: 16 },
      seed,
    }),
  );
}

function randomBatch(n: number, size: number, seed: number): ImageBatch {
  const rng = new Rng(seed);
  const data = Float32Array.from({ length: n * size * size * 3 }, () => rng.normal());
  return {
    images: tf.tensor4d(data, [n, size, size, 3]),
    imageSizes: Array.from({ length: n }, () => [size, size] as [number, number]),
  };
}

beforeAll(async () => {
  await initBackend('cpu');
});

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('matcher', () => {
  // 2 GT x 4 predictions.
  const iou = Float32Array.from([0.8, 0.5, 0.1, 0.2, 0.3, 0.6, 0.0, 0.25]);

  it('labels by thresholds: >= high matched, < low background, between ignored', () => {
    const m = matchBoxes(iou, 2, 4, { high: 0.7, low: 0.3, allowLowQuality: false });
    expect(Array.from(m)).toEqual([0, BETWEEN, BELOW_LOW, BELOW_LOW]);
  });

  it("gives each GT its best prediction with allowLowQuality (the paper's anchor rule)", () => {
    const m = matchBoxes(iou, 2, 4, { high: 0.7, low: 0.3, allowLowQuality: true });
    // GT 1's best is prediction 1 (0.6): matched to its own best GT, which is GT 1.
    expect(Array.from(m)).toEqual([0, 1, BELOW_LOW, BELOW_LOW]);
  });

  it('with no GT everything is background', () => {
    expect(
      Array.from(matchBoxes(new Float32Array(0), 0, 3, { high: 0.7, low: 0.3, allowLowQuality: true })),
    ).toEqual([BELOW_LOW, BELOW_LOW, BELOW_LOW]);
  });
});

describe('balanced sampler', () => {
  it('caps positives at the fraction and fills up with negatives, without repeats', () => {
    const labels = Int32Array.from({ length: 300 }, (_, i) => (i < 100 ? 1 : i < 280 ? 0 : -1));
    const { positives, negatives } = sampleBalanced(labels, 64, 0.25, new Rng(3));
    expect(positives.length).toBe(16);
    expect(negatives.length).toBe(48);
    expect(new Set([...positives, ...negatives]).size).toBe(64);
    expect(positives.every((i) => labels[i] === 1)).toBe(true);
    expect(negatives.every((i) => labels[i] === 0)).toBe(true);
  });

  it('takes more negatives when positives are scarce', () => {
    const labels = Int32Array.from({ length: 50 }, (_, i) => (i < 3 ? 1 : 0));
    const { positives, negatives } = sampleBalanced(labels, 20, 0.5, new Rng(1));
    expect(positives.length).toBe(3);
    expect(negatives.length).toBe(17);
  });
});

describe('postprocess', () => {
  it('drops low scores, runs NMS per class, keeps the best N, clips to the image', () => {
    // Three proposals, 2 classes (+ background); zero deltas decode to the proposals themselves.
    const proposals = Float32Array.from([0, 0, 20, 20, 1, 1, 21, 21, 30, 30, 80, 80]);
    const probs = Float32Array.from([
      0.1,
      0.8,
      0.1, // proposal 0: class 1
      0.1,
      0.7,
      0.2, // proposal 1: class 1 (overlaps proposal 0), class 2 weakly
      0.96,
      0.01,
      0.03, // proposal 2: background; class 2 at 0.03 is below the threshold
    ]);
    const deltas = new Float32Array(3 * 3 * 4);
    const out = postprocessDetections(probs, deltas, proposals, [64, 64], 2, {
      scoreThreshold: 0.05,
      nmsThreshold: 0.5,
      detectionsPerImage: 100,
    });
    // Class 1: proposal 1 (0.7) overlaps proposal 0 (0.8) at IoU 0.82 and is suppressed; class 2
    // likewise keeps only proposal 1 (0.2); proposal 2's 0.03 is below the threshold.
    expect(Array.from(out.labels)).toEqual([1, 2]);
    expect(Array.from(out.scores)).toEqual([0.8, 0.2].map(Math.fround));
    expect(Array.from(out.boxes)).toEqual([0, 0, 20, 20, 1, 1, 21, 21]);
    const clipped = postprocessDetections(probs, deltas, proposals, [50, 60], 2, {
      scoreThreshold: 0.02,
      nmsThreshold: 0.5,
      detectionsPerImage: 100,
    });
    // proposal 2 (class 2 at 0.03) now passes and is clipped to the 60-wide, 50-high image.
    expect(Array.from(clipped.boxes.subarray(4 * 2, 4 * 3))).toEqual([30, 30, 60, 50]);
    const top1 = postprocessDetections(probs, deltas, proposals, [64, 64], 2, {
      scoreThreshold: 0.05,
      nmsThreshold: 0.5,
      detectionsPerImage: 1,
    });
    expect(top1.scores.length).toBe(1);
  });
});

describe('FasterRCNN', () => {
  it('gives finite losses for empty images and degenerate boxes, and gradients for every head', async () => {
    const model = tinyModel();
    const batch = randomBatch(2, 64, 1);
    const targets = [
      // zero-width, zero-height, inverted and NaN boxes next to one good box
      {
        boxes: Float32Array.from([
          10,
          10,
          10,
          30,
          5,
          5,
          25,
          5,
          40,
          40,
          30,
          30,
          1,
          2,
          Number.NaN,
          9,
          8,
          8,
          40,
          44,
        ]),
        labels: Int32Array.from([1, 2, 3, 1, 2]),
      },
      { boxes: new Float32Array(0), labels: new Int32Array(0) },
    ];
    const { grads, values } = await model.lossGradients(
      batch,
      targets,
      new Rng(1),
      model.trainableVariables(),
    );
    expect(Number.isFinite(values.total)).toBe(true);
    for (const k of ['rpnObjectness', 'rpnBox', 'classifier', 'box'] as const) {
      expect(Number.isFinite(values[k]), k).toBe(true);
    }
    // The one valid box makes both box losses positive.
    expect(values.rpnBox).toBeGreaterThan(0);
    expect(values.box).toBeGreaterThan(0);
    for (const g of Object.values(grads)) expect(g.dataSync().every(Number.isFinite)).toBe(true);
    // All-empty batch: still finite, box losses exactly 0.
    const empty = [0, 1].map(() => ({ boxes: new Float32Array(0), labels: new Int32Array(0) }));
    const plan = await model.planLosses(batch, empty, new Rng(2));
    const parts = tf.tidy(() => model.losses(batch, plan).parts);
    const v2 = lossValuesOf(await parts.data());
    parts.dispose();
    expect(v2.rpnBox).toBe(0);
    expect(v2.box).toBe(0);
    expect(Number.isFinite(v2.total)).toBe(true);
    tf.dispose([...Object.values(grads), batch.images]);
    model.dispose();
  });

  it('uses torchvision state-dict names and survives a checkpoint round trip', async () => {
    const model = tinyModel(5);
    const names = Object.keys(await model.stateDict());
    for (const n of [
      'backbone.conv1.weight',
      'backbone.layer3.0.downsample.0.weight',
      'backbone.layer4.1.bn2.running_var',
      'rpn.head.conv.weight',
      'rpn.head.cls_logits.bias',
      'rpn.head.bbox_pred.weight',
      'roi_heads.box_predictor.cls_score.weight',
      'roi_heads.box_predictor.bbox_pred.bias',
    ]) {
      expect(names).toContain(n);
    }
    const dir = join(tmp, 'ckpt');
    await saveDetector(dir, model, {
      classes: ['a', 'b', 'c'],
      preprocessing: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], minSize: 64, maxSize: 64 },
    });
    const detector = await loadDetector(dir);
    expect(detector.classes).toEqual(['a', 'b', 'c']);
    const rng = new Rng(9);
    const rgb = {
      data: Uint8Array.from({ length: 96 * 64 * 3 }, () => rng.int(0, 255)),
      width: 96,
      height: 64,
    };
    const a = await detector.detect(rgb, { scoreThreshold: 0 });
    const original = await (await import('../../detection/app/detector.js'))
      .makeDetector(model, ['a', 'b', 'c'], detector.preprocessing)
      .detect(rgb, { scoreThreshold: 0 });
    expect(a.length).toBeGreaterThan(0);
    expect(a).toEqual(original);
    for (const d of a) {
      expect(d.box[0]).toBeGreaterThanOrEqual(0);
      expect(d.box[2]).toBeLessThanOrEqual(96);
      expect(d.box[3]).toBeLessThanOrEqual(64);
      expect(d.label).toBe(['a', 'b', 'c'][d.labelIndex]);
    }
    detector.dispose();
    model.dispose();
  });
});

describe('result export', () => {
  it('writes sub-pixel detections as valid one-pixel VOC boxes', async () => {
    const { vocDetections } = await import('../../detection/app/evaluate.js');
    const sample = { id: '1', imageId: 1 } as never;
    const dets = vocDetections([
      { sample, detections: [{ box: [29.5, 1.03, 41.9, 0.74], label: 'a', labelIndex: 0, score: 0.5 }] },
    ]);
    const [xmin, ymin, xmax, ymax] = dets[0].bbox;
    expect(xmin).toBe(30.5);
    expect(ymin).toBeCloseTo(2.03, 10);
    expect(xmax).toBeGreaterThanOrEqual(xmin);
    expect(ymax).toBeGreaterThanOrEqual(ymin);
  });
});
