import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { saveDetector } from '../../detection/checkpoint.js';
import { loadDetector } from '../../detection/detector.js';
import { detectorConfig } from '../../detection/model/config.js';
import { FasterRCNN } from '../../detection/model/faster-rcnn.js';
import { Rng } from '../../core/rng.js';
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
    saveDetector(old, model, { classes: oldConfig.classes, preprocessing: oldConfig.preprocessing });
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
