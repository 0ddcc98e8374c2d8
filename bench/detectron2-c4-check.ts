/**
 * Full-size parity check of `import detectron2` against detectron2 v0.6 itself: the shared
 * fixture's R50-C4 (COCO-Detection/faster_rcnn_R_50_C4_1x.yaml, seeded random weights, 800/1333)
 * is imported from its model-zoo pickle and run on the fixture's two images; proposals (the first
 * 50 recorded) and final instances are compared as matched sets (class + nearest box) with the
 * issue's tolerances: same count, same labels, boxes within 1e-2 px, scores within 1e-4.
 *
 *   npx tsx bench/detectron2-c4-check.ts --weights DIR/weights/model_final.pkl \
 *       [--fixtures ../shared/fixtures/detectron2] [--keep DIR] [--backend wasm]
 *
 * The 136 MB pickle is not stored: make it with the fixture's make_fixtures.py (see its README).
 * Prints one JSON line per image and a summary; exit code 1 when anything is out of tolerance.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BackendChoice, initBackend } from '../core/backend.js';
import { decodeImage } from '../data/image/decode.js';
import { importDetectron2 } from '../detection/app/detectron2.js';
import { loadDetector } from '../detection/app/detector.js';
import { FasterRCNN } from '../detection/model/faster-rcnn.js';
import { collate, prepareImage } from '../detection/app/preprocess.js';

const BOX_TOL = 1e-2;
const SCORE_TOL = 1e-4;

function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? process.argv[i + 1] : fallback;
  if (v === undefined) throw new Error(`${name} is required`);
  return v;
}

/** Nearest unused candidate (optionally of the same class) for each reference box. */
function matchSets(
  want: number[][],
  got: number[][],
  same: (i: number, j: number) => boolean = () => true,
): { j: number; d: number }[] {
  const used = new Set<number>();
  return want.map((w, i) => {
    let j = -1;
    let d = Number.POSITIVE_INFINITY;
    got.forEach((g, k) => {
      if (used.has(k) || !same(i, k)) return;
      const dist = Math.max(...g.map((v, c) => Math.abs(v - w[c])));
      if (dist < d) {
        d = dist;
        j = k;
      }
    });
    if (j >= 0) used.add(j);
    return { j, d };
  });
}

async function main(): Promise<void> {
  const weights = arg('--weights');
  const fixtures = arg('--fixtures', join(process.cwd(), '..', 'shared', 'fixtures', 'detectron2'));
  const keep = process.argv.includes('--keep') ? arg('--keep') : undefined;
  const expected = JSON.parse(readFileSync(join(fixtures, 'expected.json'), 'utf8'));
  const { backend } = await initBackend(arg('--backend', 'wasm') as BackendChoice, { notice: () => {} });
  const out = keep ?? mkdtempSync(join(tmpdir(), 'resdet-d2-check-'));
  let failures = 0;
  try {
    const t0 = performance.now();
    const summary = await importDetectron2(weights, out);
    console.log(JSON.stringify({ import: summary, seconds: (performance.now() - t0) / 1000 }));
    const detector = await loadDetector(out);
    for (const image of expected.images as { name: string; file: string }[]) {
      const ref = expected.per_image[image.name];
      const rgb = await decodeImage(join(fixtures, image.file));
      const t1 = performance.now();
      const dets = await detector.detect(rgb, { scoreThreshold: 0 });
      const ms = performance.now() - t1;
      const inst = ref.instances;
      const m = matchSets(
        inst.pred_boxes,
        dets.map((d) => d.box),
        (i, k) => dets[k].labelIndex === inst.pred_classes[i],
      );
      const boxDiff = Math.max(0, ...m.map((x) => x.d));
      const scoreDiff = Math.max(
        0,
        ...m.map((x, i) => (x.j >= 0 ? Math.abs(dets[x.j].score - inst.scores[i]) : Infinity)),
      );
      // Proposals: the first 50 detectron2 recorded, matched within ours.
      const model = detector.model;
      if (!(model instanceof FasterRCNN)) throw new Error('expected a C4 detector');
      const img = await prepareImage(rgb, detector.preprocessing);
      const batch = collate([img], model.config.sizeDivisible);
      const feature = model.features(batch.images, false);
      const { objectness, deltas } = model.rpn.head.apply(feature);
      const [props] = await model.proposals(objectness, deltas, batch);
      for (const t of [batch.images, feature, objectness, deltas]) t.dispose();
      const ours: number[][] = Array.from({ length: props.boxes.length / 4 }, (_, i) =>
        Array.from(props.boxes.subarray(4 * i, 4 * i + 4)),
      );
      const pm = matchSets(ref.proposals.boxes_first_n, ours);
      const propDiff = Math.max(0, ...pm.map((x) => x.d));
      const ok =
        dets.length === inst.count &&
        m.every((x) => x.j >= 0) &&
        boxDiff <= BOX_TOL &&
        scoreDiff <= SCORE_TOL &&
        ours.length === ref.proposals.count &&
        propDiff <= BOX_TOL &&
        img.height === ref.resized_hw[0] &&
        img.width === ref.resized_hw[1];
      if (!ok) failures++;
      console.log(
        JSON.stringify({
          image: image.name,
          ok,
          resized: [img.height, img.width],
          detections: {
            expected: inst.count,
            got: dets.length,
            maxBoxDiffPx: boxDiff,
            maxScoreDiff: scoreDiff,
          },
          proposals: { expected: ref.proposals.count, got: ours.length, first50MaxBoxDiffPx: propDiff },
          detectMs: Math.round(ms),
          backend,
        }),
      );
    }
    detector.dispose();
  } finally {
    if (!keep) rmSync(out, { recursive: true, force: true });
  }
  console.log(
    failures === 0
      ? 'detectron2 C4 parity: OK'
      : `detectron2 C4 parity: ${failures} image(s) out of tolerance`,
  );
  process.exitCode = failures === 0 ? 0 : 1;
}

await main();
