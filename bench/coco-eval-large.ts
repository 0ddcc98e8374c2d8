/**
 * Large-file reading: writes a COCO instances file of about SIZE MB (default 450, the size of
 * train2017's) piece by piece, with long polygon segmentations as real files have, then loads it
 * through the streaming reader and reports time and peak memory.
 *
 *   nice npx tsx bench/coco-eval-large.ts [--mb 450] [--out runs/bench-coco/large.json]
 */
import { createWriteStream, existsSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Rng } from '../core/rng.js';
import { loadCocoDataset } from '../data/coco/load.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

async function writeLarge(path: string, targetBytes: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const out = createWriteStream(path);
  const write = (s: string) =>
    new Promise<void>((resolve) => {
      if (out.write(s)) resolve();
      else out.once('drain', () => resolve());
    });
  const rng = new Rng(448);
  const images = 118000;
  await write('{"info":{"description":"large synthetic instances (resdet bench)"},"licenses":[],"images":[');
  for (let i = 0; i < images; i++) {
    await write(
      `${i ? ',' : ''}{"id":${i + 1},"file_name":"${String(i + 1).padStart(12, '0')}.jpg","width":640,"height":480}`,
    );
  }
  await write('],"annotations":[');
  let written = 0;
  let id = 1;
  const perAnn = 680; // bytes, approximately, with a 40-point polygon
  const count = Math.floor(targetBytes / perAnn);
  for (let j = 0; j < count; j++) {
    const w = 5 + rng.next() * 300;
    const h = 5 + rng.next() * 300;
    const x = rng.next() * 300;
    const y = rng.next() * 150;
    const poly: string[] = [];
    for (let p = 0; p < 40; p++) poly.push((x + rng.next() * w).toFixed(2), (y + rng.next() * h).toFixed(2));
    const s = `${j ? ',' : ''}{"segmentation":[[${poly.join(',')}]],"area":${(w * h * 0.6).toFixed(3)},"iscrowd":0,"image_id":${1 + (j % images)},"bbox":[${x.toFixed(2)},${y.toFixed(2)},${w.toFixed(2)},${h.toFixed(2)}],"category_id":${1 + (j % 80)},"id":${id++}}`;
    written += s.length;
    await write(s);
  }
  const cats = Array.from({ length: 80 }, (_, k) => `{"id":${k + 1},"name":"c${k + 1}","supercategory":"s"}`);
  await write(`],"categories":[${cats.join(',')}]}`);
  await new Promise<void>((resolve) => out.end(resolve));
  void written;
}

const mb = Number(arg('--mb', '450'));
const path = arg('--out', 'runs/bench-coco/large.json');
if (!existsSync(path) || Math.abs(statSync(path).size / 2 ** 20 - mb) > mb * 0.15) {
  const t = performance.now();
  await writeLarge(path, mb * 2 ** 20);
  console.log(
    `wrote ${path}: ${(statSync(path).size / 2 ** 20).toFixed(0)} MB in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
}
let peak = process.memoryUsage().rss;
const timer = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 50);
const t0 = performance.now();
const ds = await loadCocoDataset(path);
const sec = (performance.now() - t0) / 1000;
clearInterval(timer);
peak = Math.max(peak, process.memoryUsage().rss);
console.log(
  `loaded ${(statSync(path).size / 2 ** 20).toFixed(0)} MB (${ds.images.size} images, ${ds.annotations.length} annotations) in ${sec.toFixed(1)} s, peak RSS ${(peak / 2 ** 20).toFixed(0)} MB`,
);
