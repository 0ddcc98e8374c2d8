import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../core/backend.js';
import { DETECTION_PREPROCESSING } from '../../data/detection/transform.js';
import { makeDetector } from '../../detection/app/detector.js';
import { detectorConfig } from '../../detection/model/config.js';
import { FasterRCNN } from '../../detection/model/faster-rcnn.js';
import type { RawDetections } from '../../detection/model/roi-heads.js';

beforeAll(async () => {
  await initBackend('cpu');
});

describe('Detector.detect', () => {
  it('drops detections whose score or box is not finite (what a device that computes nothing returns)', async () => {
    const model = new FasterRCNN(
      detectorConfig({
        arch: 'resnet18',
        baseWidth: 8,
        numClasses: 2,
        anchorSizes: [16],
        aspectRatios: [1],
        seed: 0,
      }),
    );
    // The model's output replaced by a mix of finite and non-finite detections (boxes in resized
    // pixels: the mapping back to the image divides and clips, which keeps a NaN a NaN).
    const raw: RawDetections = {
      boxes: Float32Array.of(Number.NaN, 1, Number.NaN, 11, 2, 2, 10, 10, 0, Number.NaN, 5, 5, 1, 1, 4, 4),
      scores: Float32Array.of(0.9, 0.8, 0.7, Number.NaN),
      labels: Int32Array.of(1, 2, 1, 1),
    };
    model.detect = async () => [raw];
    const detector = makeDetector(model, ['a', 'b'], DETECTION_PREPROCESSING);
    const rgb = { data: new Uint8Array(32 * 32 * 3), width: 32, height: 32 };
    const detections = await detector.detect(rgb);
    expect(detections.map((d) => [d.label, d.score])).toEqual([['b', Math.fround(0.8)]]);
    expect(detections[0].box.every(Number.isFinite)).toBe(true);
    detector.dispose();
  });
});
