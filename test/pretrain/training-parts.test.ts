import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildSchedule, CIFAR_RECIPE, IMAGENET_RECIPE } from '../../backbone/pretrain/recipes.js';
import {
  initialScheduleState,
  learningRate,
  observeTrainError,
  observeValError,
} from '../../core/train/schedule.js';
import { ensureStridedSliceGradient } from '../../backbone/pretrain/strided-slice-grad.js';
import { epochOrder } from '../../backbone/pretrain/trainer.js';
import { initBackend } from '../../core/backend.js';
import { Rng } from '../../core/rng.js';
import { memoryBatch } from '../../data/classification/augment.js';
import { evalBatch } from '../../data/classification/batches.js';
import type { MemorySet } from '../../data/classification/types.js';

beforeAll(async () => {
  await initBackend('cpu');
});

function set4x4(): MemorySet {
  // One 4x4 grayscale image whose pixel (r, c) is 10*r + c.
  const pixels = Uint8Array.from({ length: 16 }, (_, i) => 10 * Math.floor(i / 4) + (i % 4));
  return {
    kind: 'memory',
    name: 't',
    classes: ['a'],
    labels: Int32Array.of(0),
    height: 4,
    width: 4,
    channels: 1,
    pixels,
  };
}
const unit = { mean: [0], std: [1 / 255] }; // normalised value = raw byte

describe('augmentation', () => {
  it('crops the zero-padded image at the drawn offset and mirrors it', () => {
    const set = set4x4();
    // Find a seed whose draws are dy=1, dx=-1, flip: checks the mapping with a known shift.
    for (let seed = 0; seed < 500; seed++) {
      const r = new Rng(seed);
      const dy = r.int(-1, 1);
      const dx = r.int(-1, 1);
      const flip = r.bool();
      const b = memoryBatch(set, [0], unit, { pad: 1, flip: true }, new Rng(seed));
      const at = (row: number, col: number) => b.x[row * 4 + col];
      for (let row = 0; row < 4; row++) {
        for (let col = 0; col < 4; col++) {
          const sr = row + dy;
          const sc = (flip ? 3 - col : col) + dx;
          const want = sr < 0 || sr > 3 || sc < 0 || sc > 3 ? 0 : 10 * sr + sc;
          expect(at(row, col)).toBeCloseTo(want, 4);
        }
      }
    }
  });

  it('10-crop: four padded corners and the centre, then their mirrors', async () => {
    const set = set4x4();
    const plan = { small: { pad: 1, flip: true }, scale: CIFAR_RECIPE.scale, eval: CIFAR_RECIPE.eval };
    const b = await evalBatch(set, [0], unit, plan, true);
    expect(b.shape).toEqual([10, 4, 4, 1]);
    expect(b.x[0]).toBeCloseTo(0, 6); // top-left corner crop starts in the padding
    expect(b.x[4 * 16 + 5]).toBeCloseTo(11, 4); // centre crop = the image itself
    expect(b.x[9 * 16 + 0]).toBeCloseTo(3, 4); // mirrored centre: row 0 starts with pixel (0, 3)
  });
});

describe('schedules and recipes', () => {
  it('CIFAR: /10 at 32k and 48k of 64k, scaled to shorter runs', () => {
    const s = buildSchedule(CIFAR_RECIPE, { lr: 0.1, totalIterations: 64000, schedule: 'steps', depth: 20 });
    const st = initialScheduleState();
    expect(learningRate(s, st, 31999, 64000)).toBeCloseTo(0.1);
    expect(learningRate(s, st, 32000, 64000)).toBeCloseTo(0.01);
    expect(learningRate(s, st, 48000, 64000)).toBeCloseTo(0.001);
    const short = buildSchedule(CIFAR_RECIPE, {
      lr: 0.1,
      totalIterations: 640,
      schedule: 'steps',
      depth: 20,
    });
    expect(learningRate(short, st, 320, 640)).toBeCloseTo(0.01);
  });

  it('ResNet-110 warms up at 0.01 until training error < 80%', () => {
    const s = buildSchedule(CIFAR_RECIPE, { lr: 0.1, totalIterations: 64000, schedule: 'steps', depth: 110 });
    const st = initialScheduleState();
    expect(learningRate(s, st, 0, 64000)).toBeCloseTo(0.01);
    expect(observeTrainError(s, st, 10, 0.85)).toBe(false);
    expect(learningRate(s, st, 11, 64000)).toBeCloseTo(0.01);
    expect(observeTrainError(s, st, 11, 0.79)).toBe(true);
    expect(learningRate(s, st, 12, 64000)).toBeCloseTo(0.1);
    const s20 = buildSchedule(CIFAR_RECIPE, {
      lr: 0.1,
      totalIterations: 64000,
      schedule: 'steps',
      depth: 20,
    });
    expect(learningRate(s20, initialScheduleState(), 0, 64000)).toBeCloseTo(0.1);
  });

  it('ImageNet: /10 when validation error plateaus; cosine ends near zero', () => {
    const s = buildSchedule(IMAGENET_RECIPE, {
      lr: 0.1,
      totalIterations: 1000,
      schedule: 'plateau',
      depth: 50,
    });
    const st = initialScheduleState();
    for (const e of [0.5, 0.4, 0.41, 0.4, 0.405]) observeValError(s, st, e);
    expect(learningRate(s, st, 500, 1000)).toBeCloseTo(0.01);
    const c = buildSchedule(IMAGENET_RECIPE, {
      lr: 0.1,
      totalIterations: 1000,
      schedule: 'cosine',
      depth: 50,
    });
    expect(learningRate(c, st, 500, 1000)).toBeCloseTo(0.05, 2);
    expect(learningRate(c, st, 1000, 1000)).toBeLessThan(1e-3);
    expect(IMAGENET_RECIPE.scale).toMatchObject({ scaleMin: 256, scaleMax: 480, crop: 224 });
    expect(IMAGENET_RECIPE.batchSize).toBe(256);
  });

  it('epoch order depends on seed and epoch only', () => {
    expect(epochOrder(3, 2, 50)).toEqual(epochOrder(3, 2, 50));
    expect(epochOrder(3, 2, 50)).not.toEqual(epochOrder(3, 3, 50));
    expect([...epochOrder(3, 2, 50)].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});

describe('StridedSlice gradient (option-A shortcut)', () => {
  it('scatters dy to every stride-th position', () => {
    ensureStridedSliceGradient();
    const x = tf.tensor4d(
      Array.from({ length: 2 * 5 * 4 * 3 }, (_, i) => i),
      [2, 5, 4, 3],
    );
    const w = tf.tensor4d(
      Array.from({ length: 2 * 3 * 2 * 3 }, (_, i) => i + 1),
      [2, 3, 2, 3],
    );
    const grad = tf.grad((t: tf.Tensor) =>
      tf.sum(tf.mul(tf.stridedSlice(t, [0, 0, 0, 0], [2, 5, 4, 3], [1, 2, 2, 1]), w)),
    );
    const g = grad(x).arraySync() as number[][][][];
    const wv = w.arraySync() as number[][][][];
    for (let n = 0; n < 2; n++)
      for (let h = 0; h < 5; h++)
        for (let c = 0; c < 4; c++)
          for (let k = 0; k < 3; k++) {
            const want = h % 2 === 0 && c % 2 === 0 ? wv[n][h / 2][c / 2][k] : 0;
            expect(g[n][h][c][k]).toBe(want);
          }
  });
});
