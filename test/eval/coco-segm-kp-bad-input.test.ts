/**
 * Bad masks and keypoints stop `resdet eval coco` with exit 1 and a message naming the file, the
 * record and the problem: a polygon with an odd number of coordinates, an RLE whose runs do not
 * sum to h*w, keypoints that are not 3K numbers, a segm result without a segmentation.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encode } from '../../data/coco/mask.js';
import { runCli } from '../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'resdet-segm-bad-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function write(name: string, content: unknown): string {
  const path = join(tmp, name);
  writeFileSync(path, JSON.stringify(content));
  return path;
}

const square = [2, 2, 8, 2, 8, 8, 2, 8];
const segmGt = (segmentation: unknown) => ({
  images: [{ id: 1, width: 10, height: 10 }],
  categories: [{ id: 1, name: 'a' }],
  annotations: [
    { id: 1, image_id: 1, category_id: 1, bbox: [2, 2, 6, 6], area: 36, iscrowd: 0, segmentation: [square] },
    { id: 7, image_id: 1, category_id: 1, bbox: [2, 2, 6, 6], area: 36, iscrowd: 0, segmentation },
  ],
});
const rle = encode(new Uint8Array(100), 10, 10); // an empty 10 x 10 mask
const segmDt = [{ image_id: 1, category_id: 1, segmentation: rle, score: 0.9 }];
const person = (keypoints: number[]) => ({
  images: [{ id: 1, width: 100, height: 100 }],
  categories: [{ id: 1, name: 'person', keypoints: [] }],
  annotations: [
    {
      id: 3,
      image_id: 1,
      category_id: 1,
      bbox: [0, 0, 50, 50],
      area: 2500,
      iscrowd: 0,
      num_keypoints: 17,
      keypoints,
    },
  ],
});
const kp51 = Array.from({ length: 51 }, (_, i) => (i % 3 === 2 ? 2 : 10 + i));

async function evalError(gt: unknown, dt: unknown, iouType: string): Promise<string> {
  const r = await runCli([
    'eval',
    'coco',
    '--gt',
    write('gt.json', gt),
    '--dt',
    write('dt.json', dt),
    '--iou-type',
    iouType,
  ]);
  expect(r.code).toBe(1);
  return r.stderr;
}

describe('segm and keypoints bad input', () => {
  it('a GT polygon with an odd number of coordinates', async () => {
    expect(await evalError(segmGt([[2, 2, 8, 2, 8]]), segmDt, 'segm')).toMatch(
      /gt\.json: annotations\[1\] \(id 7\): segmentation\[0\]: polygon has an odd number of coordinates \(5\)/,
    );
  });

  it('a GT RLE whose counts do not sum to h*w', async () => {
    expect(await evalError(segmGt({ size: [10, 10], counts: [50, 20] }), segmDt, 'segm')).toMatch(
      /gt\.json: annotations\[1\] \(id 7\): RLE counts sum to 70, but size \[10, 10\] has h\*w = 100 pixels/,
    );
  });

  it('a result RLE whose counts do not sum to h*w', async () => {
    const dt = [
      ...segmDt,
      { image_id: 1, category_id: 1, segmentation: { size: [10, 10], counts: '05' }, score: 0.5 },
    ];
    expect(await evalError(segmGt([square]), dt, 'segm')).toMatch(
      /dt\.json: \[1\]: RLE counts sum to 5, but size/,
    );
  });

  it('a segm result without segmentation', async () => {
    const dt = [...segmDt, { image_id: 1, category_id: 1, score: 0.5 }];
    expect(await evalError(segmGt([square]), dt, 'segm')).toMatch(
      /dt\.json: \[1\]: missing field "segmentation"/,
    );
    // Results that carry a bbox take loadRes' box branch; a missing mask is still named.
    const boxed = [
      { image_id: 1, category_id: 1, bbox: [0, 0, 2, 2], segmentation: rle, score: 0.9 },
      { image_id: 1, category_id: 1, bbox: [0, 0, 2, 2], score: 0.5 },
    ];
    expect(await evalError(segmGt([square]), boxed, 'segm')).toMatch(
      /dt\.json: \[1\]: missing field "segmentation"/,
    );
  });

  it('GT keypoints that are not 3K numbers', async () => {
    const dt = [{ image_id: 1, category_id: 1, keypoints: kp51, score: 0.9 }];
    expect(await evalError(person(kp51.slice(0, 50)), dt, 'keypoints')).toMatch(
      /gt\.json: annotations\[0\] \(id 3\): "keypoints" must be 3K numbers .*found 50 numbers/,
    );
  });

  it('result keypoints that are not 3K numbers', async () => {
    const dt = [
      { image_id: 1, category_id: 1, keypoints: kp51, score: 0.9 },
      { image_id: 1, category_id: 1, keypoints: kp51.slice(0, 48), score: 0.5 },
    ];
    expect(await evalError(person(kp51), dt, 'keypoints')).toMatch(
      /dt\.json: \[1\]: "keypoints" must be 3K numbers .*found 48 numbers/,
    );
  });
});
