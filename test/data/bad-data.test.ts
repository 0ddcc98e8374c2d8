import { statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ResdetError } from '../../core/errors.js';
import { openCoco } from '../../data/detection/coco.js';
import type { ProblemKind } from '../../data/detection/types.js';
import { openVoc } from '../../data/detection/voc.js';
import { tempDir, writeJpeg, writeTinyVoc } from './helpers.js';

const dog = { name: 'dog', xmin: 5, ymin: 5, xmax: 20, ymax: 20 };

/** Opening must fail listing the file and record; with skipBad it must count what it dropped. */
async function expectBad(
  open: (skipBad: boolean) => Promise<{
    length: number;
    skipped: { images: number; objects: number };
    problems: readonly { kind: ProblemKind }[];
  }>,
  want: {
    kind: ProblemKind;
    mentions: string[];
    length: number;
    skipped: { images: number; objects: number };
  },
) {
  const err = await open(false).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ResdetError);
  const msg = (err as Error).message;
  expect(msg).toContain(want.kind);
  for (const m of want.mentions) expect(msg).toContain(m);
  expect((err as ResdetError).hint).toMatch(/--skip-bad/);
  const ds = await open(true);
  expect(ds.length).toBe(want.length);
  expect(ds.skipped).toEqual(want.skipped);
  expect(ds.problems.map((p) => p.kind)).toEqual([want.kind]);
}

describe('bad VOC data', () => {
  it('missing image file', async () => {
    const root = tempDir();
    await writeTinyVoc(root, [
      { id: '000001', objects: [dog] },
      { id: '000002', objects: [dog], noImage: true },
    ]);
    await expectBad((skipBad) => openVoc(root, 'trainval', { skipBad }), {
      kind: 'missing-image',
      mentions: [join(root, 'Annotations', '000002.xml'), '000002', '000002.jpg'],
      length: 1,
      skipped: { images: 1, objects: 0 },
    });
  });

  it('truncated JPEG (found by the quick check)', async () => {
    const root = tempDir();
    await writeTinyVoc(root, [
      { id: '000001', objects: [dog] },
      { id: '000002', objects: [dog] },
    ]);
    const path = join(root, 'JPEGImages', '000001.jpg');
    truncateSync(path, statSync(path).size - 40);
    await expect(openVoc(root, 'trainval')).resolves.toHaveLength(2);
    await expectBad((skipBad) => openVoc(root, 'trainval', { skipBad, checkImages: 'quick' }), {
      kind: 'bad-image',
      mentions: [path, 'truncated JPEG'],
      length: 1,
      skipped: { images: 1, objects: 0 },
    });
  });

  it('box outside the image, and a box of zero area', async () => {
    const root = tempDir();
    await writeTinyVoc(root, [
      { id: '000001', objects: [dog, { name: 'cat', xmin: 50, ymin: 5, xmax: 70, ymax: 20 }] },
    ]);
    await expectBad((skipBad) => openVoc(root, 'trainval', { skipBad }), {
      kind: 'box-outside',
      mentions: ['000001.xml', 'object 2 (cat)', '64x48'],
      length: 1,
      skipped: { images: 0, objects: 1 },
    });
    const root2 = tempDir();
    // xmin 10 > xmax 9 in 1-based inclusive terms is an empty box.
    await writeTinyVoc(root2, [
      { id: '000001', objects: [{ name: 'cat', xmin: 10, ymin: 5, xmax: 9, ymax: 20 }, dog] },
    ]);
    await expectBad((skipBad) => openVoc(root2, 'trainval', { skipBad }), {
      kind: 'box-empty',
      mentions: ['object 1 (cat)', 'zero area'],
      length: 1,
      skipped: { images: 0, objects: 1 },
    });
    const ok = await openVoc(root2, 'trainval', { skipBad: true });
    expect(Array.from(ok.get(0).labels)).toEqual([12]);
  });

  it('a box poking out by less than the tolerance is clipped, not reported', async () => {
    const root = tempDir();
    // 1-based xmax 65 on a 64-wide image -> x2 = 65, one pixel over.
    await writeTinyVoc(root, [
      { id: '000001', objects: [{ name: 'cat', xmin: 1, ymin: 1, xmax: 65, ymax: 48 }] },
    ]);
    const ds = await openVoc(root, 'trainval');
    expect(Array.from(ds.get(0).boxes)).toEqual([0, 0, 64, 48]);
  });

  it('unknown class name', async () => {
    const root = tempDir();
    await writeTinyVoc(root, [{ id: '000001', objects: [dog, { ...dog, name: 'unicorn' }] }]);
    await expectBad((skipBad) => openVoc(root, 'trainval', { skipBad }), {
      kind: 'unknown-class',
      mentions: ['000001.xml', 'object 2 (unicorn)', 'unknown class "unicorn"'],
      length: 1,
      skipped: { images: 0, objects: 1 },
    });
  });

  it('duplicate ids in a split', async () => {
    const root = tempDir();
    await writeTinyVoc(root, [{ id: '000001', objects: [dog] }]);
    writeFileSync(join(root, 'ImageSets', 'Main', 'trainval.txt'), '000001\n000001\n');
    await expectBad((skipBad) => openVoc(root, 'trainval', { skipBad }), {
      kind: 'duplicate-id',
      mentions: ['duplicate image id "000001"'],
      length: 1,
      skipped: { images: 1, objects: 0 },
    });
  });

  it('malformed annotation XML', async () => {
    const root = tempDir();
    await writeTinyVoc(root, [
      { id: '000001', objects: [dog] },
      { id: '000002', objects: [dog] },
    ]);
    writeFileSync(
      join(root, 'Annotations', '000002.xml'),
      '<annotation><size><width>64</width></annotation>',
    );
    await expectBad((skipBad) => openVoc(root, 'trainval', { skipBad }), {
      kind: 'bad-record',
      mentions: ['000002.xml'],
      length: 1,
      skipped: { images: 1, objects: 0 },
    });
  });
});

describe('bad COCO data', () => {
  async function cocoWith(mutate: (doc: CocoDoc) => void): Promise<string> {
    const root = tempDir();
    await writeJpeg(join(root, 'a.jpg'), 40, 30);
    await writeJpeg(join(root, 'b.jpg'), 40, 30);
    const doc: CocoDoc = {
      images: [
        { id: 1, file_name: 'a.jpg', width: 40, height: 30 },
        { id: 2, file_name: 'b.jpg', width: 40, height: 30 },
      ],
      categories: [{ id: 1, name: 'thing' }],
      annotations: [
        { id: 10, image_id: 1, category_id: 1, bbox: [1, 1, 10, 10], area: 100, iscrowd: 0 },
        { id: 11, image_id: 2, category_id: 1, bbox: [1, 1, 10, 10], area: 100, iscrowd: 0 },
      ],
    };
    mutate(doc);
    const ann = join(root, 'instances.json');
    writeFileSync(ann, JSON.stringify(doc));
    return ann;
  }
  type CocoDoc = {
    images: Record<string, unknown>[];
    categories: Record<string, unknown>[];
    annotations: Record<string, unknown>[];
  };

  it('duplicate image id and duplicate annotation id', async () => {
    const ann = await cocoWith((d) => {
      d.images.push({ id: 2, file_name: 'a.jpg', width: 40, height: 30 });
    });
    await expectBad((skipBad) => openCoco(ann, undefined, { skipBad }), {
      kind: 'duplicate-id',
      mentions: [ann, 'image id 2'],
      length: 2,
      skipped: { images: 1, objects: 0 },
    });
    const ann2 = await cocoWith((d) => {
      d.annotations.push({ id: 10, image_id: 2, category_id: 1, bbox: [2, 2, 5, 5], area: 25, iscrowd: 0 });
    });
    await expectBad((skipBad) => openCoco(ann2, undefined, { skipBad }), {
      kind: 'duplicate-id',
      mentions: ['annotation id 10'],
      length: 2,
      skipped: { images: 0, objects: 1 },
    });
  });

  it('an image_id given as a string (pycocotools would not match it to image 1)', async () => {
    const ann = await cocoWith((d) => {
      d.annotations[1].image_id = '2';
    });
    await expectBad((skipBad) => openCoco(ann, undefined, { skipBad }), {
      kind: 'bad-record',
      mentions: ['annotation id 11', 'image_id "2" must be a number'],
      length: 2,
      skipped: { images: 0, objects: 1 },
    });
  });

  it('unknown category id', async () => {
    const ann = await cocoWith((d) => {
      d.annotations[1].category_id = 99;
    });
    await expectBad((skipBad) => openCoco(ann, undefined, { skipBad }), {
      kind: 'unknown-class',
      mentions: ['annotation id 11', 'category_id 99'],
      length: 2,
      skipped: { images: 0, objects: 1 },
    });
  });

  it('missing image file and a zero-area box', async () => {
    const ann = await cocoWith((d) => {
      d.images[1].file_name = 'nope.jpg';
    });
    await expectBad((skipBad) => openCoco(ann, undefined, { skipBad }), {
      kind: 'missing-image',
      mentions: ['image id 2', 'nope.jpg'],
      length: 1,
      skipped: { images: 1, objects: 0 },
    });
    const ann2 = await cocoWith((d) => {
      d.annotations[0].bbox = [5, 5, 0, 7];
    });
    await expectBad((skipBad) => openCoco(ann2, undefined, { skipBad }), {
      kind: 'box-empty',
      mentions: ['image id 1, annotation id 10'],
      length: 2,
      skipped: { images: 0, objects: 1 },
    });
  });

  it('an error lists at most 20 records and says how many more', async () => {
    const ann = await cocoWith((d) => {
      for (let k = 0; k < 25; k++) {
        d.annotations.push({
          id: 100 + k,
          image_id: 1,
          category_id: 7,
          bbox: [1, 1, 2, 2],
          area: 4,
          iscrowd: 0,
        });
      }
    });
    await expect(openCoco(ann)).rejects.toThrow(/25 bad record\(s\)[\s\S]*and 5 more/);
  });
});
