/**
 * Writes a synthetic COCO val2017-sized evaluation set: 5,000 images, 80 categories with
 * COCO's non-contiguous ids, ~36.7k ground-truth boxes (about 1% crowd, `area` smaller than
 * w*h as segmentation areas are) and 500k detections (100 per image: jittered copies of the
 * GT at a spread of IoUs, plus background boxes). Seeded, so every run writes the same files.
 *
 *   npx tsx bench/coco-eval-gen.ts [OUT_DIR=runs/bench-coco] [--images 5000] [--dets 500000]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../core/rng.js';
import { COCO_CATEGORIES } from '../data/detection/coco-categories.js';

export interface GenOptions {
  images: number;
  /** Mean GT boxes per image (val2017: 36,781 / 5,000). */
  gtPerImage: number;
  detections: number;
  seed: number;
  /** Include polygon segmentations (makes the file larger, as real instances files are). */
  segmentation: boolean;
}

export const COCO_CATEGORY_IDS = COCO_CATEGORIES.map((c) => c.id);

/** val2017's sizes, as both COCO benchmarks generate them. */
export const VAL2017_LIKE: GenOptions = {
  images: 5000,
  gtPerImage: 7.36,
  detections: 500000,
  seed: 2017,
  segmentation: true,
};

const r2 = (v: number) => Math.round(v * 100) / 100;

export function generateCocoEvalSet(opts: GenOptions): { gt: object; dt: object[] } {
  const rng = new Rng(opts.seed);
  const images: object[] = [];
  const annotations: object[] = [];
  const dt: object[] = [];
  const detsPerImage = Math.floor(opts.detections / opts.images);
  let annId = 1;
  for (let i = 0; i < opts.images; i++) {
    const id = 100000 + i * 7 + rng.int(0, 6); // sparse ids, as COCO's
    const W = rng.bool() ? 640 : rng.int(300, 640);
    const H = rng.bool() ? 480 : rng.int(300, 640);
    images.push({ id, file_name: `${String(id).padStart(12, '0')}.jpg`, width: W, height: H });
    const n = Math.max(0, Math.round(opts.gtPerImage + rng.normal() * 4));
    const imgGt: { cat: number; box: number[] }[] = [];
    for (let j = 0; j < n; j++) {
      // Log-uniform sizes give COCO-like small/medium/large proportions.
      const w = Math.min(W - 1, Math.exp(rng.uniform(Math.log(4), Math.log(W * 0.9))));
      const h = Math.min(H - 1, Math.max(2, w * Math.exp(rng.normal() * 0.5)));
      const x = rng.uniform(0, W - w);
      const y = rng.uniform(0, H - h);
      const cat = COCO_CATEGORY_IDS[Math.min(79, Math.floor(80 * rng.next() ** 1.6))];
      const box = [r2(x), r2(y), r2(w), r2(h)];
      const crowd = rng.bool(0.01) ? 1 : 0;
      const ann: Record<string, unknown> = {
        id: annId++,
        image_id: id,
        category_id: cat,
        bbox: box,
        area: r2(w * h * rng.uniform(0.45, 0.9)),
        iscrowd: crowd,
      };
      if (opts.segmentation) ann.segmentation = [[x, y, x + w, y, x + w, y + h, x, y + h].map(r2)];
      annotations.push(ann);
      imgGt.push({ cat, box });
    }
    for (let d = 0; d < detsPerImage; d++) {
      let cat: number;
      let box: number[];
      let score: number;
      if (imgGt.length > 0 && d < imgGt.length * 3) {
        const g = imgGt[d % imgGt.length];
        const s = 0.02 + 0.25 * rng.next() ** 2;
        const [gx, gy, gw, gh] = g.box;
        box = [
          gx + rng.normal() * s * gw,
          gy + rng.normal() * s * gh,
          gw * (1 + rng.normal() * s),
          gh * (1 + rng.normal() * s),
        ];
        cat = rng.bool(0.9) ? g.cat : COCO_CATEGORY_IDS[rng.int(0, 79)];
        score = Math.min(1, Math.max(0.001, 1 - s * 2 + rng.normal() * 0.15));
      } else {
        const w = Math.exp(rng.uniform(Math.log(4), Math.log(W * 0.8)));
        const h = w * Math.exp(rng.normal() * 0.5);
        box = [rng.uniform(0, W - w), rng.uniform(0, Math.max(1, H - h)), w, h];
        cat = COCO_CATEGORY_IDS[rng.int(0, 79)];
        score = rng.next() * 0.6;
      }
      box[2] = Math.max(1, box[2]);
      box[3] = Math.max(1, box[3]);
      dt.push({ image_id: id, category_id: cat, bbox: box.map(r2), score: Math.round(score * 1e5) / 1e5 });
    }
  }
  const categories = COCO_CATEGORY_IDS.map((id) => ({ id, name: `class_${id}`, supercategory: 'thing' }));
  return {
    gt: {
      info: { description: 'synthetic val2017-sized set (resdet bench)' },
      images,
      annotations,
      categories,
    },
    dt,
  };
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

if (process.argv[1] && /coco-eval-gen\.ts$/.test(process.argv[1])) {
  const positional = process.argv
    .slice(2)
    .filter((a, i, all) => !a.startsWith('--') && !all[i - 1]?.startsWith('--'));
  const out = positional[0] ?? 'runs/bench-coco';
  const { gt, dt } = generateCocoEvalSet({
    images: arg('--images', 5000),
    gtPerImage: 7.36,
    detections: arg('--dets', 500000),
    seed: 2017,
    segmentation: true,
  });
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'gt.json'), JSON.stringify(gt));
  writeFileSync(join(out, 'dt.json'), JSON.stringify(dt));
  const g = gt as { annotations: unknown[] };
  console.log(`${out}: ${g.annotations.length} GT boxes, ${dt.length} detections`);
}
