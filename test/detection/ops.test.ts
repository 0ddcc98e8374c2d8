import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../core/backend.js';
import {
  batchedNms,
  boxIou,
  decodeBoxes,
  encodeBoxes,
  generateAnchors,
  nms,
  roiAlign,
  roiPool,
} from '../../detection/index.js';
import { type Json, nchwToNhwc, opsFixture } from './torchvision-fixtures.js';

// Parity with torchvision 0.14 on its reference fixtures (see test/fixtures/torchvision/README.md).

const fixture = (name: string): Json => opsFixture('ops', name);

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, abs: number, rel = 0): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]) - rel * Math.abs(expected[i]);
    if (err > worst) {
      worst = err;
      at = i;
    }
  }
  expect(worst, `index ${at}: ${actual[at]} vs ${expected[at]}`).toBeLessThanOrEqual(abs);
}

const nhwc = nchwToNhwc;

beforeAll(async () => {
  await initBackend('cpu');
});

describe('boxIou', () => {
  it('matches torchvision.ops.box_iou within 1e-6 (nested arrays and tensors)', () => {
    for (const c of fixture('box_iou').cases) {
      const iou = boxIou(c.boxes1 as number[][], c.boxes2);
      expectClose(iou.flat(), c.iou.flat(), 1e-6);
      const t = boxIou(tf.tensor2d(c.boxes1), tf.tensor2d(c.boxes2));
      expect(t.shape).toEqual([c.boxes1.length, c.boxes2.length]);
      expectClose(t.dataSync(), c.iou.flat(), 1e-6);
    }
  });
});

describe('nms', () => {
  it('reproduces torchvision keep lists exactly, ties and exact-threshold IoUs included', () => {
    const cases = fixture('nms').cases;
    expect(cases.length).toBeGreaterThan(0);
    for (const c of cases) expect(nms(c.boxes, c.scores, c.iou_threshold), c.name).toEqual(c.keep);
  });

  it('batchedNms reproduces both torchvision code paths exactly', () => {
    for (const c of fixture('batched_nms').cases) {
      expect(batchedNms(c.boxes, c.scores, c.idxs, c.iou_threshold), c.name).toEqual(c.keep);
    }
  });

  it('handles empty input and accepts tensors', () => {
    expect(nms([], [], 0.5)).toEqual([]);
    expect(batchedNms([], [], [], 0.5)).toEqual([]);
    const boxes = tf.tensor2d([
      [0, 0, 10, 10],
      [1, 1, 10, 10],
      [20, 20, 30, 30],
    ]);
    expect(nms(boxes, tf.tensor1d([0.5, 0.9, 0.1]), 0.5)).toEqual([1, 2]);
  });
});

describe('box coder', () => {
  it('encodes and decodes like torchvision BoxCoder (relative 1e-5), 4K-column codes included', () => {
    for (const c of fixture('box_coder').cases) {
      const w = c.weights as [number, number, number, number];
      const targets = encodeBoxes(c.encode.reference_boxes as number[][], c.encode.proposals, w);
      expectClose(targets.flat(), c.encode.targets.flat(), 1e-6, 1e-5);
      const decoded = decodeBoxes(c.decode.rel_codes as number[][], c.decode.boxes, w);
      expectClose(decoded.flat(), c.decode.pred_boxes.flat(), 1e-4, 1e-5);
      const two = decodeBoxes(c.decode_two_classes.rel_codes as number[][], c.decode_two_classes.boxes, w);
      expect(two[0].length).toBe(8);
      expectClose(two.flat(), c.decode_two_classes.pred_boxes.flat(), 1e-4, 1e-5);
    }
  });
});

describe('generateAnchors', () => {
  it('matches torchvision AnchorGenerator exactly (options object and positional)', () => {
    for (const c of fixture('anchors').cases) {
      const a = generateAnchors({ featureMapHw: c.feature_map_hw, imageHw: c.image_hw, stride: c.stride });
      expect(a.cellAnchors).toEqual(c.cell_anchors);
      expect(a.anchors).toEqual(c.anchors);
      expect(generateAnchors(c.feature_map_hw, c.stride).anchors).toEqual(c.anchors);
      expect(generateAnchors({ featureMapHw: c.feature_map_hw, imageHw: c.image_hw }).anchors).toEqual(
        c.anchors,
      );
    }
  });
});

describe('RoI ops', () => {
  it('roiPool is bit-exact with torchvision.ops.roi_pool (7x7 and 14x14)', () => {
    const f = fixture('roi_pool');
    const input = nhwc(f.input);
    for (const c of f.cases) {
      const out = roiPool(input, f.rois, c.output_size, c.spatial_scale);
      const expected = nhwc(c.output);
      expect(out.shape).toEqual(expected.shape);
      expectClose(out.dataSync(), expected.dataSync(), 0);
      expectClose(roiPool(input, f.rois, c).dataSync(), expected.dataSync(), 0);
    }
  });

  it('roiAlign matches torchvision.ops.roi_align within 1e-5 (aligned, sampling ratios)', () => {
    const f = fixture('roi_align');
    const input = nhwc(f.input);
    for (const c of f.cases) {
      const out = roiAlign(input, f.rois, c.output_size, c.spatial_scale, c.sampling_ratio, c.aligned);
      const expected = nhwc(c.output);
      expect(out.shape).toEqual(expected.shape);
      expectClose(out.dataSync(), expected.dataSync(), 1e-5);
      const viaOptions = roiAlign(input, tf.tensor2d(f.rois), {
        outputSize: c.output_size,
        spatialScale: c.spatial_scale,
        samplingRatio: c.sampling_ratio,
        aligned: c.aligned,
      });
      expectClose(viaOptions.dataSync(), expected.dataSync(), 1e-5);
      expectClose(roiAlign(input, f.rois, c).dataSync(), expected.dataSync(), 1e-5);
    }
  });
});
