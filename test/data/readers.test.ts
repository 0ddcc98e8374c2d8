import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ResdetError } from '../../core/errors.js';
import { cocoLabelMap, openCoco } from '../../data/detection/coco.js';
import { openDataset, parseDatasetSpec } from '../../data/detection/spec.js';
import { datasetStats } from '../../data/detection/stats.js';
import { targetsOf } from '../../data/detection/types.js';
import { openVoc, vocImageId } from '../../data/detection/voc.js';
import { repoRoot } from '../helpers/cli.js';
import { tempDir, writeJpeg, writeTinyVoc } from './helpers.js';

describe('VOC reader', () => {
  it('converts 1-based inclusive XML boxes to 0-based exclusive-style and keeps difficult flags', async () => {
    const root = tempDir();
    await writeTinyVoc(root, [
      {
        id: '000005',
        objects: [
          { name: 'dog', xmin: 1, ymin: 1, xmax: 64, ymax: 48 },
          { name: 'person', xmin: 11, ymin: 21, xmax: 30, ymax: 40, difficult: true },
        ],
      },
      { id: '2008_000123', objects: [{ name: 'car', xmin: 5, ymin: 6, xmax: 7, ymax: 8 }] },
    ]);
    const ds = await openVoc(root, 'trainval');
    expect(ds.length).toBe(2);
    expect(ds.classes).toHaveLength(20);
    const s = ds.get(0);
    expect(s.id).toBe('000005');
    expect(s.imageId).toBe(5);
    // The whole 64x48 image is [0, 0, 64, 48]; a 20x20-pixel object spans x2 - x1 = 20.
    expect(Array.from(s.boxes)).toEqual([0, 0, 64, 48, 10, 20, 30, 40]);
    expect(Array.from(s.labels)).toEqual([ds.classes.indexOf('dog') + 1, ds.classes.indexOf('person') + 1]);
    expect(Array.from(s.difficult)).toEqual([0, 1]);
    expect(Array.from(targetsOf(s).labels)).toEqual([ds.classes.indexOf('dog') + 1]);
    expect(targetsOf(s, { keepDifficult: true }).labels).toHaveLength(2);
    expect(ds.get(1).imageId).toBe(2008000123);
    expect(ds.get(1).path).toBe(join(root, 'JPEGImages', '2008_000123.jpg'));
  });

  it('numbers stems: digits, year_number, else undefined', () => {
    expect(vocImageId('000029')).toBe(29);
    expect(vocImageId('2012_004331')).toBe(2012004331);
    expect(vocImageId('img_a')).toBeUndefined();
  });

  it('names the available splits when a split is missing', async () => {
    const root = tempDir();
    await writeTinyVoc(root, [{ id: '000001', objects: [] }], 'train');
    await expect(openVoc(root, 'trainval')).rejects.toThrow(/no such split "trainval"/);
  });

  it('skipEmpty leaves out images whose only objects are difficult', async () => {
    const root = tempDir();
    await writeTinyVoc(root, [
      { id: '000001', objects: [{ name: 'cat', xmin: 2, ymin: 2, xmax: 9, ymax: 9, difficult: true }] },
      { id: '000002', objects: [{ name: 'cat', xmin: 2, ymin: 2, xmax: 9, ymax: 9 }] },
    ]);
    expect((await openVoc(root, 'trainval', { skipEmpty: true })).length).toBe(1);
    expect((await openVoc(root, 'trainval', { skipEmpty: true, keepDifficult: true })).length).toBe(2);
  });
});

describe('VOC class list', () => {
  it('a VOC-layout set of other classes without classes.txt uses every name its annotations use, sorted', async () => {
    const root = tempDir();
    await writeTinyVoc(
      root,
      [
        { id: '000001', objects: [{ name: 'zebra', xmin: 2, ymin: 2, xmax: 20, ymax: 20 }] },
        { id: '000002', objects: [{ name: 'apple', xmin: 5, ymin: 5, xmax: 30, ymax: 30 }] },
      ],
      'train',
    );
    // A class only the test split names still belongs to the training set's list.
    await writeTinyVoc(
      root,
      [{ id: '000003', objects: [{ name: 'mango', xmin: 3, ymin: 3, xmax: 9, ymax: 9 }] }],
      'test',
    );
    const train = await openVoc(root, 'train');
    const test = await openVoc(root, 'test');
    expect(train.classes).toEqual(['apple', 'mango', 'zebra']);
    expect(test.classes).toEqual(train.classes);
    expect(train.skipped.objects).toBe(0);
    expect(Array.from(train.get(0).labels)).toEqual([3]);
    expect(train.notes?.[0]).toMatch(/no classes\.txt and most names .* sorted: apple, mango, zebra/);
  });

  it('keeps the 20 VOC classes in devkit order when the annotations use only those, with no note', async () => {
    // (A misspelt or foreign name among VOC ones is reported as unknown instead: bad-data.test.ts.)
    const root = tempDir();
    await writeTinyVoc(root, [
      { id: '000001', objects: [{ name: 'sheep', xmin: 2, ymin: 2, xmax: 20, ymax: 20 }] },
    ]);
    const ds = await openVoc(root, 'trainval');
    expect(ds.classes).toHaveLength(20);
    expect(ds.classes[0]).toBe('aeroplane');
    expect(ds.notes).toEqual([]);
  });

  it('classes.txt wins, and names outside it are skipped as unknown', async () => {
    const root = tempDir();
    await writeTinyVoc(root, [
      { id: '000001', objects: [{ name: 'zebra', xmin: 2, ymin: 2, xmax: 20, ymax: 20 }] },
    ]);
    writeFileSync(join(root, 'classes.txt'), 'horse\ncow\n');
    const ds = await openVoc(root, 'trainval', { skipBad: true });
    expect(ds.classes).toEqual(['horse', 'cow']);
    expect(ds.problems[0]).toMatchObject({ kind: 'unknown-class' });
  });
});

describe('VOC reader on the devkit-style fixture', () => {
  it('counts what the reference tool counted (images, objects, difficult per class)', async () => {
    const root = join(repoRoot, 'test', 'fixtures', 'eval', 'voc_public');
    const expected = JSON.parse(readFileSync(join(root, 'expected.json'), 'utf8')).counts;
    // The fixture has annotations only, no JPEGs.
    const st = datasetStats(await openVoc(root, 'test', { checkImages: 'none' }));
    expect(st.images).toBe(expected.images);
    expect(st.objects).toBe(expected.objects);
    expect(st.imagesWithoutObjects).toBe(expected.images_without_objects);
    for (const c of ['car', 'dog', 'person']) {
      expect(st.classes[c].difficult).toBe(expected.difficult[c]);
      expect(st.classes[c].objects - st.classes[c].difficult).toBe(expected.npos_non_difficult[c]);
    }
  });
});

describe('COCO reader', () => {
  async function tinyCoco(): Promise<{ ann: string; dir: string }> {
    const root = tempDir();
    const dir = join(root, 'imgs');
    mkdirSync(dir);
    await writeJpeg(join(dir, 'a.jpg'), 40, 30);
    await writeJpeg(join(dir, 'b.jpg'), 40, 30);
    const ann = join(root, 'instances.json');
    writeFileSync(
      ann,
      JSON.stringify({
        images: [
          { id: 7, file_name: 'a.jpg', width: 40, height: 30 },
          { id: 9, file_name: 'b.jpg', width: 40, height: 30 },
        ],
        categories: [
          { id: 90, name: 'toothbrush' },
          { id: 1, name: 'person' },
        ],
        annotations: [
          { id: 1, image_id: 7, category_id: 90, bbox: [1.5, 2, 10, 5], area: 50, iscrowd: 0 },
          { id: 2, image_id: 7, category_id: 1, bbox: [0, 0, 40, 30], area: 1200, iscrowd: 1 },
        ],
      }),
    );
    return { ann, dir };
  }

  it('maps category ids to contiguous labels in id order and flags crowd', async () => {
    const { ann, dir } = await tinyCoco();
    const ds = await openCoco(ann, dir);
    expect(ds.classes).toEqual(['person', 'toothbrush']);
    expect(ds.categoryIds).toEqual([1, 90]);
    const s = ds.get(0);
    expect(s.imageId).toBe(7);
    expect(Array.from(s.boxes)).toEqual([1.5, 2, 11.5, 7, 0, 0, 40, 30]);
    expect(Array.from(s.labels)).toEqual([2, 1]);
    expect(Array.from(s.crowd)).toEqual([0, 1]);
    expect(Array.from(targetsOf(s).labels)).toEqual([2]);
    expect((await openCoco(ann, dir, { skipEmpty: true })).length).toBe(1);
  });

  it('cocoLabelMap is stable under category order', () => {
    const m = cocoLabelMap([
      { id: 3, name: 'c' },
      { id: 1, name: 'a' },
    ]);
    expect(m.labelOf.get(1)).toBe(1);
    expect(m.labelOf.get(3)).toBe(2);
  });

  it('opens through a spec, and a union must agree on classes', async () => {
    const { ann, dir } = await tinyCoco();
    const one = await openDataset(`coco:${ann}:${dir}`);
    expect(one.length).toBe(2);
    const both = await openDataset(`coco:${ann}:${dir}+coco:${ann}:${dir}`, { skipBad: true });
    expect(both.length).toBe(4);
    expect(both.get(3).index).toBe(3);
    const voc = tempDir();
    await writeTinyVoc(voc, [{ id: '000001', objects: [] }]);
    await expect(openDataset(`coco:${ann}:${dir}+voc:${voc}`)).rejects.toBeInstanceOf(ResdetError);
  });
});

describe('parseDatasetSpec', () => {
  it('parses voc, coco and unions with defaults', () => {
    expect(parseDatasetSpec('voc:/d/VOC2007').sources).toEqual([
      { kind: 'voc', root: '/d/VOC2007', split: 'trainval' },
    ]);
    expect(parseDatasetSpec('voc:/a:trainval+voc:/b:test').sources.map((s) => s.kind)).toEqual([
      'voc',
      'voc',
    ]);
    expect(parseDatasetSpec('coco:x.json:imgs').sources[0]).toEqual({
      kind: 'coco',
      annotations: 'x.json',
      imageDir: 'imgs',
    });
    expect(() => parseDatasetSpec('yolo:x')).toThrow(/unknown kind/);
    expect(() => parseDatasetSpec('voc:a:b:c')).toThrow(/too many/);
  });
});
