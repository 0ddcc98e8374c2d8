import { describe, expect, it } from 'vitest';
import { cocoLabelLayout } from '../../data/detection/coco-categories.js';
import type { DetectionDataset } from '../../data/detection/types.js';
import type { Detection, Detector } from '../../detection/app/detector.js';
import { alignToDataset } from '../../detection/app/evaluate.js';

const classes = cocoLabelLayout();
const fake = (detections: Detection[]): Detector =>
  ({
    classes,
    categoryIds: classes.map((_, i) => i),
    preprocessing: { mean: [0, 0, 0], std: [1, 1, 1] },
    detect: async () => detections,
    dispose() {},
  }) as unknown as Detector;
const det = (id: number, score: number): Detection => ({
  box: [0, 0, 1, 1],
  label: classes[id],
  labelIndex: id,
  score,
});

describe('alignToDataset', () => {
  it("maps torchvision's 91-id layout onto a COCO set's classes by category id, dropping absent ones", async () => {
    // A COCO json with person (1), car (3) and dog (18): labels 0, 1, 2 in the set.
    const set = {
      name: 'mini',
      classes: ['person', 'car', 'dog'],
      categoryIds: [1, 3, 18],
    } as unknown as DetectionDataset;
    const aligned = alignToDataset(fake([det(18, 0.9), det(2, 0.8), det(1, 0.7)]), set);
    expect(aligned.classes).toEqual(['person', 'car', 'dog']);
    const out = await aligned.detect({ data: new Uint8Array(3), width: 1, height: 1 });
    expect(out.map((d) => [d.label, d.labelIndex, d.score])).toEqual([
      ['dog', 2, 0.9],
      ['person', 0, 0.7],
    ]);
  });

  it('refuses different classes without category ids', () => {
    const set = { name: 'voc', classes: ['a', 'b'] } as unknown as DetectionDataset;
    expect(() => alignToDataset(fake([]), set)).toThrow(/voc's classes \(a, b\) are not the model's/);
  });
});
