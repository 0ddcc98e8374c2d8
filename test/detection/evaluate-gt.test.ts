import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCoco } from '../../data/detection/coco.js';
import { evaluateDetections, type ImageDetections } from '../../detection/app/evaluate.js';
import { writeJpeg } from '../data/helpers.js';

// evaluate-detector on a COCO set: the loader skips unreadable images and zero-size boxes (with a
// report); the COCO ground truth given to the evaluator must leave out the same records, or the
// evaluator (rightly strict on a results or GT file) refuses what training accepted.

const tmp = mkdtempSync(join(tmpdir(), 'resdet-eval-gt-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('COCO ground truth for evaluate-detector', () => {
  it('leaves out the records the loader skipped and scores a perfect detector 1', async () => {
    const images = join(tmp, 'images');
    mkdirSync(images);
    await writeJpeg(join(images, 'a.jpg'), 40, 30);
    await writeJpeg(join(images, 'b.jpg'), 40, 30);
    writeFileSync(join(images, 'broken.png'), 'not a png');
    const ann = join(tmp, 'instances.json');
    writeFileSync(
      ann,
      JSON.stringify({
        images: ['a.jpg', 'b.jpg', 'broken.png'].map((file_name, i) => ({
          id: i + 1,
          file_name,
          width: 40,
          height: 30,
        })),
        categories: [{ id: 5, name: 'thing' }],
        annotations: [
          { id: 1, image_id: 1, category_id: 5, bbox: [2, 3, 10, 12], area: 120, iscrowd: 0 },
          { id: 2, image_id: 1, category_id: 5, bbox: [20, 4, 0, 0], area: 0, iscrowd: 0 },
          { id: 5, image_id: 2, category_id: 5, bbox: [30, 4, -3, 5], area: 0, iscrowd: 0 },
          { id: 3, image_id: 2, category_id: 5, bbox: [5, 5, 20, 20], area: 400, iscrowd: 0 },
          { id: 4, image_id: 3, category_id: 5, bbox: [1, 1, 8, 8], area: 64, iscrowd: 0 },
        ],
      }),
    );
    const dataset = await openCoco(ann, images, { skipBad: true, checkImages: 'quick' });
    expect(dataset.length).toBe(2);
    const results: ImageDetections[] = [];
    for (let i = 0; i < dataset.length; i++) {
      const sample = dataset.get(i);
      const detections = [];
      for (let j = 0; j < sample.labels.length; j++) {
        const b = sample.boxes.subarray(j * 4, j * 4 + 4);
        detections.push({
          box: [b[0], b[1], b[2], b[3]] as [number, number, number, number],
          label: 'thing',
          labelIndex: sample.labels[j] - 1,
          score: 0.9,
        });
      }
      results.push({ sample, detections });
    }
    const ev = evaluateDetections(results, dataset, ['coco'], { annotationsFile: ann });
    expect(ev.coco?.stats[0]).toBe(1);
    expect(ev.coco?.stats[1]).toBe(1);
  });
});
