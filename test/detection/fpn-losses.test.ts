import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../core/backend.js';
import { Rng } from '../../core/rng.js';
import { readSafetensors } from '../../core/safetensors.js';
import { decodeImage } from '../../data/image/decode.js';
import { importTorchvisionFpn } from '../../detection/app/import-torchvision.js';
import { padToMultiple, rcnnTransform } from '../../detection/model/rcnn-transform.js';
import type { Sampler } from '../../detection/model/rpn.js';
import { repoRoot } from '../helpers/cli.js';

// torchvision's training losses of the tiny v1 model (test/detection/fixtures/generators/tiny_fpn.py)
// on two images in one batch with fixed targets. torchvision's samplers draw with torch.randperm;
// the generator recorded the indices they chose, and these samplers replay them, so every other
// step (anchors, matching, proposals, RoI pooling, targets, the four losses) is resdet's own.
const FIX = join(repoRoot, 'test', 'fixtures', 'torchvision', 'fpn');

interface Sampled {
  positive: number[];
  negative: number[];
}

interface Training {
  losses: Record<'loss_classifier' | 'loss_box_reg' | 'loss_objectness' | 'loss_rpn_box_reg', number>;
  rpn_sampled: Sampled[];
  roi_sampled: Sampled[];
  proposals_before_sampling: number[][][];
  targets: { boxes: number[][]; labels: number[] }[];
}

/** Replays recorded draws image by image, checking they pick what our labels call positive/negative. */
function replay(draws: Sampled[], seen: { bad: number }): Sampler {
  let call = 0;
  return (labels) => {
    const d = draws[call++];
    for (const i of d.positive) if (!(labels[i] > 0)) seen.bad++;
    for (const i of d.negative) if (labels[i] !== 0) seen.bad++;
    return { positives: d.positive, negatives: d.negative };
  };
}

describe('FPN training losses match torchvision', () => {
  beforeAll(async () => {
    await initBackend('wasm', { notice: () => {} });
  });

  it('RPN and RoI losses on a fixed batch (relative 1e-4)', async () => {
    const doc = JSON.parse(readFileSync(join(FIX, 'tiny_fpn_v1_expected.json'), 'utf8')) as {
      min_size: number;
      max_size: number;
      training: Training;
    };
    const t = doc.training;
    const { model } = importTorchvisionFpn(
      readSafetensors(join(FIX, 'tiny_fpn_v1.safetensors')),
      'fasterrcnn_resnet50_fpn',
      {
        transform: { minSize: doc.min_size, maxSize: doc.max_size },
      },
    );
    try {
      const images = await Promise.all(['img0', 'img1'].map((k) => decodeImage(join(FIX, `${k}.png`))));
      const prepared = images.map((rgb) => rcnnTransform(rgb, model.config.transform));
      // torchvision batches by padding every image to the largest size, rounded up to 32.
      const hp = Math.ceil(Math.max(...prepared.map((p) => p.height)) / 32) * 32;
      const wp = Math.ceil(Math.max(...prepared.map((p) => p.width)) / 32) * 32;
      const data = new Float32Array(2 * hp * wp * 3);
      prepared.forEach((p, n) => {
        const one = padToMultiple({ ...p }, 1).data;
        for (let y = 0; y < p.height; y++)
          data.set(one.subarray(y * p.width * 3, (y + 1) * p.width * 3), (n * hp + y) * wp * 3);
      });
      const f = Math.fround;
      // resize_boxes: coordinates times f32(new) / f32(original), per axis, in float32.
      const targets = t.targets.map((tg, n) => {
        const p = prepared[n];
        const rx = f(f(p.width) / f(p.originalWidth));
        const ry = f(f(p.height) / f(p.originalHeight));
        return {
          boxes: Float32Array.from(
            tg.boxes.flatMap(([x1, y1, x2, y2]) => [f(x1 * rx), f(y1 * ry), f(x2 * rx), f(y2 * ry)]),
          ),
          labels: Int32Array.from(tg.labels),
        };
      });
      const seen = { bad: 0 };
      const batch = {
        images: tf.tensor4d(data, [2, hp, wp, 3]),
        imageSizes: prepared.map((p) => [p.height, p.width] as [number, number]),
      };
      const plan = await model.planLosses(batch, targets, new Rng(0), {
        rpn: replay(t.rpn_sampled, seen),
        roi: replay(t.roi_sampled, seen),
      });
      const values = tf.tidy(() => {
        const l = model.lossDict(batch, plan);
        return tf.stack([l.loss_objectness, l.loss_rpn_box_reg, l.loss_classifier, l.loss_box_reg]);
      });
      const [objectness, rpnBox, classifier, box] = Array.from(await values.data());
      values.dispose();
      batch.images.dispose();
      expect(seen.bad).toBe(0);
      const close = (a: number, b: number) =>
        expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-4 * Math.abs(b) + 1e-7);
      close(objectness, t.losses.loss_objectness);
      close(rpnBox, t.losses.loss_rpn_box_reg);
      close(classifier, t.losses.loss_classifier);
      close(box, t.losses.loss_box_reg);
    } finally {
      model.dispose();
    }
  }, 60_000);
});
