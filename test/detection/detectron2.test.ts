import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COCO_CATEGORIES } from '../../data/detection/coco-categories.js';
import { decodeImage } from '../../data/image/decode.js';
import { loadDetectorCheckpoint } from '../../detection/app/checkpoint.js';
import {
  detectron2C4Config,
  loadDetectron2Tensors,
  readDetectron2Weights,
} from '../../detection/app/detectron2.js';
import { FasterRCNN } from '../../detection/model/faster-rcnn.js';
import { collate, prepareImage } from '../../detection/app/preprocess.js';
import { repoRoot, runCli } from '../helpers/cli.js';

// detectron2 v0.6's own outputs for a tiny random-weight R50-C4 (widths / 8, test size 200/300,
// 80 COCO classes): test/detection/fixtures/generators/detectron2_c4.py.
const fx = join(repoRoot, 'test/fixtures/detectron2');
const pkl = join(fx, 'tiny_c4.pkl');
const expected = JSON.parse(readFileSync(join(fx, 'expected.json'), 'utf8')) as {
  images: Record<
    string,
    {
      file: string;
      proposals: { count: number; boxes: number[][] };
      instances: { count: number; boxes: number[][]; scores: number[]; classes: number[] };
    }
  >;
};
const BOX_TOL = 1e-2;
const SCORE_TOL = 1e-4;

const tmp = mkdtempSync(join(tmpdir(), 'resdet-d2-'));
const ckpt = join(tmp, 'tiny');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Det {
  box: number[];
  label: string;
  labelIndex: number;
  categoryId?: number;
  score: number;
}

/** For each expected box: the unused same-class box nearest to it (max-abs coordinate distance). */
function match<T>(
  want: number[][],
  got: T[],
  boxOf: (g: T) => number[],
  sameClass: (i: number, g: T) => boolean = () => true,
): { index: number; dist: number }[] {
  const used = new Set<number>();
  return want.map((w, i) => {
    let best = -1;
    let dist = Number.POSITIVE_INFINITY;
    got.forEach((g, j) => {
      if (used.has(j) || !sameClass(i, g)) return;
      const d = Math.max(...boxOf(g).map((v, k) => Math.abs(v - w[k])));
      if (d < dist) {
        dist = d;
        best = j;
      }
    });
    if (best >= 0) used.add(best);
    return { index: best, dist };
  });
}

const detected: Record<string, Det[]> = {};

describe('resdet import detectron2 (tiny R50-C4 against detectron2 v0.6)', () => {
  beforeAll(async () => {
    const r = await runCli([
      'import',
      'detectron2',
      '--weights',
      pkl,
      '--out',
      ckpt,
      '--min-size',
      '200',
      '--max-size',
      '300',
      '--json',
    ]);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      arch: 'resnet50',
      tensors: 275,
      ignored: ['proposal_generator.anchor_generator.cell_anchors.0'],
      dtypes: ['float32'],
      classes: 80,
      categoryIds: true,
    });
    // One detect run over the three images (the command prints an array for several).
    const images = Object.values(expected.images).map((e) => join(fx, e.file));
    const d = await runCli(['detect', '--model', ckpt, ...images, '--json', '--score-threshold', '0']);
    expect(d.code, d.stderr).toBe(0);
    const results = JSON.parse(d.stdout) as { image: string; detections: Det[] }[];
    Object.keys(expected.images).forEach((name, i) => {
      detected[name] = results[i].detections;
    });
  });

  it("persists detectron2's conventions and COCO's names and ids in config.json", () => {
    const config = JSON.parse(readFileSync(join(ckpt, 'config.json'), 'utf8'));
    expect(config.classes).toEqual(COCO_CATEGORIES.map((c) => c.name));
    expect(config.extra.categoryIds).toEqual(COCO_CATEGORIES.map((c) => c.id));
    expect(config.preprocessing).toMatchObject({
      mean: [103.53, 116.28, 123.675],
      std: [1, 1, 1],
      channelOrder: 'bgr',
      valueRange: '0-255',
      resize: 'pil-bilinear',
      minSize: 200,
      maxSize: 300,
    });
    expect(config.model).toMatchObject({
      anchorSizes: [32, 64, 128, 256, 512],
      anchorGenerator: { order: 'size-major', round: false, stride: 16 },
      sizeDivisible: 1,
      backbone: { stridePlacement: 'v1', frozenBn: true },
      rpn: { preNmsTopNTest: 6000, postNmsTopNTest: 1000, nmsThreshold: 0.7, detectron2Proposals: true },
      roiHeads: {
        pooler: 'align',
        poolSize: 14,
        samplingRatio: 0,
        aligned: true,
        background: 'last',
        dropEmptyBoxes: 'after-rescale',
        scoreThreshold: 0.05,
        nmsThreshold: 0.5,
        detectionsPerImage: 100,
      },
    });
  });

  for (const name of Object.keys(expected.images)) {
    it(`detect --json --score-threshold 0 gives detectron2's instances on image ${name}`, () => {
      const want = expected.images[name].instances;
      const got = detected[name];
      expect(want.count).toBeGreaterThan(0);
      expect(got.length).toBe(want.count);
      const m = match(
        want.boxes,
        got,
        (g) => g.box,
        (i, g) => g.labelIndex === want.classes[i],
      );
      m.forEach(({ index, dist }, i) => {
        expect(index, `detection ${i} (class ${want.classes[i]}) has no match`).toBeGreaterThanOrEqual(0);
        expect(dist, `detection ${i} box`).toBeLessThanOrEqual(BOX_TOL);
        const g = got[index];
        expect(Math.abs(g.score - want.scores[i]), `detection ${i} score`).toBeLessThanOrEqual(SCORE_TOL);
        expect(g.label).toBe(COCO_CATEGORIES[want.classes[i]].name);
        expect(g.categoryId).toBe(COCO_CATEGORIES[want.classes[i]].id);
      });
    });
  }

  it("proposes detectron2's 1000 proposals (matched as sets)", async () => {
    const { model, meta } = loadDetectorCheckpoint(ckpt);
    if (!(model instanceof FasterRCNN)) throw new Error(`${ckpt}: expected a C4 detector`);
    try {
      const ref = expected.images.a;
      const img = await prepareImage(await decodeImage(join(fx, ref.file)), meta.preprocessing);
      const batch = collate([img], model.config.sizeDivisible);
      const feature = model.features(batch.images, false);
      const { objectness, deltas } = model.rpn.head.apply(feature);
      const proposals = await model.proposals(objectness, deltas, batch);
      [batch.images, feature, objectness, deltas].forEach((t) => {
        t.dispose();
      });
      const boxes = proposals[0].boxes;
      const got: number[][] = Array.from({ length: boxes.length / 4 }, (_, i) =>
        Array.from(boxes.subarray(4 * i, 4 * i + 4)),
      );
      expect(got.length).toBe(ref.proposals.count);
      const m = match(ref.proposals.boxes, got, (g) => g);
      const far = m.filter((x) => !(x.dist <= BOX_TOL));
      expect(far).toEqual([]);
    } finally {
      model.dispose();
    }
  });
});

describe('resdet import detectron2: bad input', () => {
  const pickles = join(repoRoot, 'test/fixtures/pickle');
  const importFile = (file: string, extra: string[] = []) =>
    runCli(['import', 'detectron2', '--weights', file, '--out', join(tmp, 'bad'), ...extra]);

  it('refuses the wrong --arch for the file, naming both', async () => {
    const r = await importFile(pkl, ['--arch', 'R101-C4']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--arch R101-C4 (3, 4, 23, 3 blocks) does not fit');
    expect(r.stderr).toContain('it holds a resnet50 C4 model (res2..res5 with 3, 4, 6, 3 blocks)');
  });

  it('refuses pickles holding anything but arrays, naming the callable', async () => {
    const evil = await importFile(join(pickles, 'evil_os_system_global.pkl'));
    expect(evil.code).toBe(1);
    expect(evil.stderr).toContain('pickle names callable os.system; only numpy arrays are allowed');
    expect(() => readDetectron2Weights(join(pickles, 'evil_eval.pkl'))).toThrow(
      'pickle names callable __builtin__.eval',
    );
    expect(() => readDetectron2Weights(join(pickles, 'model_with_int.pkl'))).toThrow(
      '"model" holds values that are not numpy arrays: step (number)',
    );
  });

  it('names what it found in files of another layout', () => {
    const read = (file: string) => () => readDetectron2Weights(file);
    expect(read(join(pickles, 'blobs_p2.pkl'))).toThrow(
      'a Caffe2/Detectron-1 "blobs" dict (2 arrays, e.g. conv1_w, res2_0_branch2a_w)',
    );
    expect(read(join(pickles, 'list_top_p3.pkl'))).toThrow('the pickle holds a list, not a dict');
    expect(read(join(pickles, 'truncated.pkl'))).toThrow(/truncated\.pkl: truncated/);
    expect(
      read(join(repoRoot, 'test/fixtures/torchvision/tiny_resnet_basic1111_c10_f16.safetensors')),
    ).toThrow('a safetensors file, not a detectron2 model-zoo pickle');
  });

  it('lists missing, unexpected and mis-shaped tensors by their detectron2 names', async () => {
    const w = readDetectron2Weights(pkl);
    const config = detectron2C4Config(w, 'tiny_c4.pkl');
    delete w.tensors['backbone.res3.1.conv2.norm.running_var'];
    w.tensors['roi_heads.res5.0.extra.weight'] = w.tensors['roi_heads.res5.0.conv1.weight'];
    const rpn = w.tensors['proposal_generator.rpn_head.conv.weight'];
    w.tensors['proposal_generator.rpn_head.conv.weight'] = {
      ...rpn,
      shape: [rpn.shape[1], rpn.shape[0], 1, 9],
    };
    const model = new FasterRCNN(config);
    try {
      await expect(loadDetectron2Tensors(model, w, 'tiny_c4.pkl')).rejects.toThrow(
        /missing: backbone\.res3\.1\.conv2\.norm\.running_var; unexpected: roi_heads\.res5\.0\.extra\.weight; mis-shaped: proposal_generator\.rpn_head\.conv\.weight \(file \[128, 128, 1, 9\], model \[128, 128, 3, 3\]\)/,
      );
    } finally {
      model.dispose();
    }
  });

  it('refuses FPN files and a class-agnostic box head', () => {
    const w = readDetectron2Weights(pkl);
    const fpn = {
      ...w,
      tensors: { ...w.tensors, 'backbone.fpn_lateral2.weight': w.tensors['backbone.stem.conv1.weight'] },
    };
    expect(() => detectron2C4Config(fpn, 'x.pkl')).toThrow(
      /a detectron2 FPN model \(backbone\.fpn_lateral2\.weight, \.\.\.\), not a C4 one/,
    );
    const box = w.tensors['roi_heads.box_predictor.bbox_pred.weight'];
    const agnostic = {
      ...w,
      tensors: {
        ...w.tensors,
        'roi_heads.box_predictor.bbox_pred.weight': { ...box, shape: [4, box.shape[1]] },
      },
    };
    expect(() => detectron2C4Config(agnostic, 'x.pkl')).toThrow(/bbox_pred has 4 outputs for 80 classes/);
  });
});
