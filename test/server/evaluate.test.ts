import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readImageSet, readVocGroundTruth, readVocResultFiles } from '../../detection/eval/index.js';
import { createApp } from '../../server/app.js';
import { repoRoot } from '../helpers/cli.js';
import { type ErrorJson, fakeModels, listen } from './helpers.js';

/** The evaluate routes with the real evaluation library, on the public parity fixtures. */

const fixtures = join(repoRoot, 'test', 'fixtures', 'eval');
const TOL = 1e-6;

let url: string;
let close: () => Promise<void>;
beforeAll(async () => {
  ({ url, close } = await listen(createApp({ models: fakeModels(), log: () => {} })));
});
afterAll(() => close());

const postJson = (path: string, body: unknown) =>
  fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('POST /v1/evaluate/coco', () => {
  it('answers pycocotools numbers for the public fixture (tolerance 1e-6)', async () => {
    const gt = JSON.parse(readFileSync(join(fixtures, 'coco_public', 'gt.json'), 'utf8'));
    const dt = JSON.parse(readFileSync(join(fixtures, 'coco_public', 'dt.json'), 'utf8'));
    const expected = JSON.parse(readFileSync(join(fixtures, 'coco_public', 'expected.json'), 'utf8'));
    const res = await postJson('/v1/evaluate/coco', { gt, dt });
    expect(res.status).toBe(200);
    const got = (await res.json()) as Record<string, number> & { per_category: Record<string, number> };
    for (const k of ['AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'AR1', 'AR10', 'AR100', 'ARs', 'ARm', 'ARl'])
      expect(Math.abs(got[k] - expected[k]), k).toBeLessThan(TOL);
    for (const [cat, ap] of Object.entries(expected.per_category_ap as Record<string, number>))
      expect(Math.abs(got.per_category[cat] - ap), `category ${cat}`).toBeLessThan(TOL);
  });

  it('bad input -> 400 naming the record', async () => {
    const gt = JSON.parse(readFileSync(join(fixtures, 'coco_public', 'gt.json'), 'utf8'));
    const missing = await postJson('/v1/evaluate/coco', { gt });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as ErrorJson).error.message).toContain('"dt"');
    const unknownImage = await postJson('/v1/evaluate/coco', {
      gt,
      dt: [{ image_id: 987654321, category_id: 1, bbox: [1, 1, 5, 5], score: 0.5 }],
    });
    expect(unknownImage.status).toBe(400);
    const err = ((await unknownImage.json()) as ErrorJson).error;
    expect(err.code).toBe('bad_input');
    expect(err.message).toMatch(/987654321/);
  });
});

describe('POST /v1/evaluate/voc', () => {
  it('answers the devkit numbers for the public fixture, both metrics (tolerance 1e-6)', async () => {
    const root = join(fixtures, 'voc_public');
    const ids = readImageSet(join(root, 'ImageSets', 'Main', 'test.txt'));
    const images = readVocGroundTruth(join(root, 'Annotations'), ids);
    const { detections } = readVocResultFiles(join(root, 'results', 'comp4_det_test_{cls}.txt'), [
      'car',
      'dog',
      'person',
    ]);
    const expected = JSON.parse(readFileSync(join(root, 'expected.json'), 'utf8'));
    const res = await postJson('/v1/evaluate/voc', { images, detections, classes: expected.classes });
    expect(res.status).toBe(200);
    const got = (await res.json()) as Record<string, { mAP: number; ap: Record<string, number> }> & {
      classes: string[];
    };
    expect(got.classes).toEqual(expected.classes);
    for (const metric of ['voc07', 'area']) {
      expect(Math.abs(got[metric].mAP - expected[metric].mAP), metric).toBeLessThan(TOL);
      for (const cls of expected.classes as string[])
        expect(Math.abs(got[metric].ap[cls] - expected[metric].ap[cls]), `${metric} ${cls}`).toBeLessThan(
          TOL,
        );
    }
    const only = await postJson('/v1/evaluate/voc', { images, detections, metric: 'area' });
    const onlyBody = (await only.json()) as Record<string, unknown>;
    expect(Object.keys(onlyBody).sort()).toEqual(['area', 'classes']);
  });

  it('bad input -> 400 with the problem', async () => {
    const bad = await postJson('/v1/evaluate/voc', {
      images: [{ id: 'a', objects: [] }],
      detections: [{ image_id: 'a', class: 'car', score: 'high', bbox: [1, 1, 2, 2] }],
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as ErrorJson).error.message).toMatch(/score/);
    const metric = await postJson('/v1/evaluate/voc', { images: [], detections: [], metric: 'voc12' });
    expect(metric.status).toBe(400);
  });
});
