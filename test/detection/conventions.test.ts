import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { saveDetector } from '../../detection/app/checkpoint.js';
import { loadDetector } from '../../detection/app/detector.js';
import { detectorConfig } from '../../detection/model/config.js';
import { FasterRCNN } from '../../detection/model/faster-rcnn.js';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../core/rng.js';
import { postprocessDetections, roiLoss } from '../../detection/model/roi-heads.js';
import { repoRoot } from '../helpers/cli.js';

// config.json and detections written by the code before detectron2's conventions became config
// options (test/fixtures/detector-defaults/generate.mts, run at commit bcf02ae).
const fixtures = join(repoRoot, 'test/fixtures/detector-defaults');
const oldConfig = JSON.parse(readFileSync(join(fixtures, 'config.json'), 'utf8'));
const oldDetections = JSON.parse(readFileSync(join(fixtures, 'detections.json'), 'utf8'));
const tmp = mkdtempSync(join(tmpdir(), 'resdet-conventions-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("detectron2's conventions as options: the defaults are today's detector", () => {
  const config = detectorConfig({
    arch: 'resnet18',
    numClasses: 3,
    baseWidth: 4,
    seed: 5,
    roiHeads: { scoreThreshold: 0 },
  });

  it('a default config persists exactly the fields it did before (no new keys)', () => {
    expect(JSON.parse(JSON.stringify(config))).toEqual(oldConfig.model);
  });

  it('an old checkpoint loads and detects exactly as before', async () => {
    // Weights of the same seeded model (init is deterministic), then the old config.json in place
    // of the new one (keeping the save's commit token, which pairs it with the weights).
    const model = new FasterRCNN(config);
    const old = join(tmp, 'old');
    await saveDetector(old, model, { classes: oldConfig.classes, preprocessing: oldConfig.preprocessing });
    model.dispose();
    const written = JSON.parse(readFileSync(join(old, 'config.json'), 'utf8'));
    writeFileSync(join(old, 'config.json'), JSON.stringify({ ...oldConfig, commit: written.commit }));
    const detector = await loadDetector(old);
    const rng = new Rng(3);
    const rgb = {
      data: Uint8Array.from({ length: 64 * 90 * 3 }, () => rng.int(0, 255)),
      width: 90,
      height: 64,
    };
    const detections = await detector.detect(rgb, { scoreThreshold: 0 });
    detector.dispose();
    expect(oldDetections.count).toBeGreaterThan(0);
    expect(detections.length).toBe(oldDetections.count);
    expect(JSON.parse(JSON.stringify(detections))).toEqual(oldDetections.detections);
  });
});

describe("background last (detectron2's layout) is the same model with columns moved", () => {
  // 3 RoIs, K = 2 classes. 'first': logits [bg, c1, c2], boxes [bg, c1, c2]; 'last': logits
  // [c1, c2, bg], boxes [c1, c2].
  const logitsFirst = [0.2, 1.5, -0.3, 2.0, 0.1, 0.4, -1.0, 0.3, 2.2];
  const toLast = (rows: number[], k1: number) =>
    rows.flatMap((_, i) => (i % k1 === 0 ? [...rows.slice(i + 1, i + k1), rows[i]] : []));
  const boxFirst = Array.from({ length: 3 * 12 }, (_, i) => Math.sin(i) * 0.5);
  const boxLast = [0, 1, 2].flatMap((r) => boxFirst.slice(12 * r + 4, 12 * r + 12));

  it('gives the same Fast R-CNN losses', () => {
    const samples = {
      rois: new Float32Array(15),
      labels: Int32Array.from([0, 1, 2]),
      targets: Float32Array.from({ length: 12 }, (_, i) => (i % 5) * 0.1 - 0.2),
    };
    const first = roiLoss(tf.tensor2d(logitsFirst, [3, 3]), tf.tensor2d(boxFirst, [3, 12]), samples, 'first');
    const last = roiLoss(
      tf.tensor2d(toLast(logitsFirst, 3), [3, 3]),
      tf.tensor2d(boxLast, [3, 8]),
      samples,
      'last',
    );
    expect(last.classifier.dataSync()[0]).toBeCloseTo(first.classifier.dataSync()[0], 6);
    expect(last.box.dataSync()[0]).toBeCloseTo(first.box.dataSync()[0], 6);
    expect(first.box.dataSync()[0]).toBeGreaterThan(0);
  });

  it('gives the same detections', () => {
    const probsFirst = Float32Array.from([0.1, 0.8, 0.1, 0.2, 0.3, 0.5, 0.6, 0.3, 0.1]);
    const proposals = Float32Array.from([0, 0, 20, 20, 30, 30, 50, 60, 5, 5, 40, 40]);
    const cfg = { scoreThreshold: 0.05, nmsThreshold: 0.5, detectionsPerImage: 100 };
    const a = postprocessDetections(probsFirst, Float32Array.from(boxFirst), proposals, [64, 64], 2, cfg);
    const b = postprocessDetections(
      Float32Array.from(toLast(Array.from(probsFirst), 3)),
      Float32Array.from(boxLast),
      proposals,
      [64, 64],
      2,
      { ...cfg, background: 'last' },
    );
    expect(a.labels.length).toBeGreaterThan(2);
    expect(Array.from(b.labels)).toEqual(Array.from(a.labels));
    expect(Array.from(b.scores)).toEqual(Array.from(a.scores));
    expect(Array.from(b.boxes)).toEqual(Array.from(a.boxes));
  });
});
