import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../core/backend.js';
import { Rng } from '../../core/rng.js';
import { detectorConfig, FasterRCNN, type LossValues } from '../../detection/index.js';

// Golden losses: a tiny C4 detector (ResNet-18 at width 8, seeded init, 64-px images, fixed
// targets) trained 3 steps with plain SGD (lr 0.02, applied here so that the test pins the model's
// forward pass, target assignment, sampling, losses and gradients, not an optimizer's options).
// The numbers were recorded from resdet's own C4 detector on the cpu backend (2026-12-04); any
// change to initialisation, anchor/RoI assignment, the sampler's draw order, the losses or their
// gradients moves them. Tolerance: 1e-4 relative (float32 summation-order changes stay far below
// it; a different sample or a changed rule moves a loss by percent).
// To re-record after a deliberate change: run with RESDET_PRINT_GOLDEN=1 and paste the printed rows.

const GOLDEN: Omit<LossValues, 'total'>[] = [
  {
    rpnObjectness: 0.6939846277236938,
    rpnBox: 0.019894257187843323,
    classifier: 1.4391359090805054,
    box: 0.4498198628425598,
  },
  {
    rpnObjectness: 0.6930583119392395,
    rpnBox: 0.01986505836248398,
    classifier: 1.041257381439209,
    box: 0.43315887451171875,
  },
  {
    rpnObjectness: 0.69170081615448,
    rpnBox: 0.01981455646455288,
    classifier: 0.8365474343299866,
    box: 0.42405667901039124,
  },
];

function tinyDetector(): FasterRCNN {
  return new FasterRCNN(
    detectorConfig({
      arch: 'resnet18',
      baseWidth: 8,
      numClasses: 3,
      frozenBn: false,
      freezeAt: 0,
      anchorSizes: [16, 32],
      aspectRatios: [0.5, 1, 2],
      rpn: { preNmsTopNTrain: 200, postNmsTopNTrain: 50, batchSizePerImage: 64 },
      roiHeads: { poolSize: 4, batchSizePerImage: 16 },
      seed: 7,
    }),
  );
}

beforeAll(async () => {
  await initBackend('cpu');
});

const disposables: tf.Tensor[] = [];
afterAll(() => {
  tf.dispose(disposables);
});

describe('golden training losses of a tiny C4 detector', () => {
  it('reproduces the recorded losses of its first 3 SGD steps (1e-4 relative)', async () => {
    const model = tinyDetector();
    const rng = new Rng(5);
    const pixels = Float32Array.from({ length: 2 * 64 * 64 * 3 }, () => rng.normal());
    const images = tf.tensor4d(pixels, [2, 64, 64, 3]);
    disposables.push(images);
    const batch = { images, imageSizes: [[64, 64] as [number, number], [60, 64] as [number, number]] };
    const targets = [
      { boxes: Float32Array.from([8, 10, 40, 44, 30, 28, 60, 58]), labels: Int32Array.from([1, 3]) },
      { boxes: Float32Array.from([4, 6, 20, 50]), labels: Int32Array.from([2]) },
    ];
    const variables = model.trainableVariables();
    const sampling = new Rng(11);
    const seen: Omit<LossValues, 'total'>[] = [];
    for (let step = 0; step < GOLDEN.length; step++) {
      const { grads, values } = await model.lossGradients(batch, targets, sampling, variables);
      const { rpnObjectness, rpnBox, classifier, box } = values;
      seen.push({ rpnObjectness, rpnBox, classifier, box });
      expect(values.total).toBeCloseTo(rpnObjectness + rpnBox + classifier + box, 5);
      tf.tidy(() => {
        for (const v of variables) v.assign(tf.sub(v, tf.mul(grads[v.name], 0.02)));
      });
      tf.dispose(Object.values(grads));
    }
    model.dispose();
    if (process.env.RESDET_PRINT_GOLDEN) console.log(JSON.stringify(seen, null, 1));
    // Training moves the losses: the pinned steps are not one value repeated.
    expect(seen[2].classifier).not.toBe(seen[0].classifier);
    expect(seen.length).toBe(GOLDEN.length);
    seen.forEach((row, step) => {
      for (const k of ['rpnObjectness', 'rpnBox', 'classifier', 'box'] as const) {
        const want = GOLDEN[step][k];
        expect(Math.abs(row[k] - want), `step ${step} ${k}: ${row[k]} vs ${want}`).toBeLessThanOrEqual(
          1e-4 * Math.abs(want),
        );
      }
    });
  });
});
