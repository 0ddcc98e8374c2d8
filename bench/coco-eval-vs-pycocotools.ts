/**
 * `resdet eval coco` against pycocotools in one run, on the val2017-sized synthetic sets: boxes
 * (bench/coco-eval-gen.ts: 5,000 images, 80 categories, ~37k GT, 500k detections) or masks (the
 * same GT as polygons, each detection's box turned into a jittered octagon mask, written as a
 * compressed RLE). Both whole processes are timed (wall and CPU through GNU time), pycocotools
 * once (it takes minutes), resdet --runs times (median), and the stats of both are compared.
 *
 *   nice npx tsx bench/coco-eval-vs-pycocotools.ts --pycocotools /work/refs/coco/cocoapi/PythonAPI \
 *     [--iou-type bbox|segm] [--dir runs/bench-coco-<type>] [--runs 3] [--cli dist/tools/bin.js]
 *     [--resdet-when FILE]
 *
 * --resdet-when FILE: after pycocotools, wait until FILE exists before timing resdet (its minutes
 * of pycocotools can then overlap with building the CLI to measure; both times, and when each side
 * ran, go into the record).
 *
 * pycocotools is built from cocodataset/cocoapi outside the repository
 * (`python3 setup.py build_ext --inplace` in its PythonAPI/ with Debian's cython3 and numpy).
 */
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../core/rng.js';
import { rleFrPoly, toCompressed } from '../data/coco/mask.js';
import { generateCocoEvalSet, VAL2017_LIKE } from './coco-eval-gen.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const iouType = arg('--iou-type', 'bbox');
const dir = arg('--dir', `runs/bench-coco-${iouType}`);
const runs = Number(arg('--runs', '3'));
const pyApi = arg('--pycocotools', '');
const python = arg('--python', '/usr/bin/python3');

interface Box {
  image_id: number;
  category_id: number;
  bbox: number[];
  score: number;
}

/** A mask result per box result: an octagon inside the box, corners cut by a random share. */
function maskResults(dt: Box[], images: Map<number, { width: number; height: number }>): object[] {
  const rng = new Rng(4242);
  return dt.map((d) => {
    const img = images.get(d.image_id) as { width: number; height: number };
    const [x, y, w, h] = d.bbox;
    const c = 0.1 + 0.25 * rng.next();
    const poly = [
      x + c * w,
      y,
      x + (1 - c) * w,
      y,
      x + w,
      y + c * h,
      x + w,
      y + (1 - c) * h,
      x + (1 - c) * w,
      y + h,
      x + c * w,
      y + h,
      x,
      y + (1 - c) * h,
      x,
      y + c * h,
    ];
    const segmentation = toCompressed(rleFrPoly(poly, img.height, img.width));
    return { image_id: d.image_id, category_id: d.category_id, segmentation, score: d.score };
  });
}

if (!existsSync(join(dir, 'gt.json')) || !existsSync(join(dir, 'dt.json'))) {
  const { gt, dt } = generateCocoEvalSet(VAL2017_LIKE);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'gt.json'), JSON.stringify(gt));
  const g = gt as { images: { id: number; width: number; height: number }[] };
  const results = iouType === 'segm' ? maskResults(dt as Box[], new Map(g.images.map((i) => [i.id, i]))) : dt;
  writeFileSync(join(dir, 'dt.json'), JSON.stringify(results));
}

const TIME = existsSync('/usr/bin/time');
function timed(
  cmd: string,
  args: string[],
): { wall: number; cpu: number | null; stdout: string; stderr: string } {
  const t0 = performance.now();
  const r = TIME
    ? spawnSync('/usr/bin/time', ['-f', 'CPU %U %S', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 })
    : spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  const m = /^CPU ([\d.]+) ([\d.]+)$/.exec(lines.at(-1) ?? '');
  return {
    wall,
    cpu: m ? Number(m[1]) + Number(m[2]) : null,
    stdout: r.stdout,
    stderr: lines.slice(0, -1).join('\n'),
  };
}

const gtPath = join(dir, 'gt.json');
const dtPath = join(dir, 'dt.json');
const record: Record<string, unknown> = {
  iouType,
  set: dir,
  date: new Date().toISOString(),
  machine: `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}`,
  loadavg_before: loadavg(),
};

let py: ReturnType<typeof timed> | undefined;
if (pyApi) {
  // The whole pycocotools job as its users run it: load, loadRes, evaluate, accumulate, summarize.
  const script = [
    'import sys, json, numpy as np',
    "np.float = getattr(np, 'float', float)", // cocoeval.py still says np.float (gone in numpy 1.24)
    `sys.path.insert(0, ${JSON.stringify(pyApi)})`,
    'from pycocotools.coco import COCO',
    'from pycocotools.cocoeval import COCOeval',
    `g = COCO(${JSON.stringify(gtPath)}); d = g.loadRes(${JSON.stringify(dtPath)})`,
    `e = COCOeval(g, d, ${JSON.stringify(iouType)}); e.evaluate(); e.accumulate(); e.summarize()`,
    'print("STATS " + json.dumps([float(x) for x in e.stats]))',
  ].join('\n');
  console.log('pycocotools ...');
  py = timed(python, ['-c', script]);
  console.log(`pycocotools: ${py.wall.toFixed(2)} s wall, ${py.cpu?.toFixed(2)} s CPU`);
  record.pycocotools = { wall_s: py.wall, cpu_s: py.cpu, finished: new Date().toISOString() };
}

const when = arg('--resdet-when', '');
if (when) {
  console.log(`waiting for ${when} ...`);
  while (!existsSync(when)) await sleep(2000);
}
record.resdet_started = new Date().toISOString();

const cli = arg('--cli', existsSync('dist/tools/bin.js') ? 'dist/tools/bin.js' : '');
const cliArgs = cli ? [cli] : ['--import', 'tsx', 'tools/bin.ts'];
const walls: number[] = [];
const cpuTimes: number[] = [];
let ours: Record<string, number> = {};
for (let r = 0; r < runs; r++) {
  const res = timed(process.execPath, [
    ...cliArgs,
    '--verbose',
    'eval',
    'coco',
    '--gt',
    gtPath,
    '--dt',
    dtPath,
    '--iou-type',
    iouType,
    '--json',
  ]);
  walls.push(res.wall);
  if (res.cpu !== null) cpuTimes.push(res.cpu);
  ours = JSON.parse(res.stdout);
  console.log(
    `resdet run ${r + 1}: ${res.wall.toFixed(2)} s wall, ${res.cpu?.toFixed(2)} s CPU (${res.stderr})`,
  );
}
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
record.resdet = {
  cli: cliArgs.join(' '),
  wall_s: walls,
  cpu_s: cpuTimes,
  median_wall_s: median(walls),
  median_cpu_s: cpuTimes.length ? median(cpuTimes) : null,
};
record.loadavg_after = loadavg();
if (py) {
  const stats = JSON.parse(/STATS (.*)/.exec(py.stdout)?.[1] ?? '[]') as number[];
  const names = Object.keys(ours).filter((k) => k !== 'per_category');
  const maxDiff = Math.max(...names.map((n, i) => Math.abs(ours[n] - stats[i])));
  record.max_stat_difference = maxDiff;
  record.ratio_wall = py.wall / median(walls);
  if (py.cpu !== null && cpuTimes.length) record.ratio_cpu = py.cpu / median(cpuTimes);
  console.log(
    `ratio (pycocotools / resdet): ${(record.ratio_wall as number).toFixed(1)}x wall, ${(record.ratio_cpu as number | undefined)?.toFixed(1)}x CPU; largest stat difference ${maxDiff.toExponential(2)}`,
  );
}
const out = arg('--out', join('bench', 'results', `coco-eval-vs-pycocotools-${iouType}.json`));
writeFileSync(out, `${JSON.stringify(record, null, 2)}\n`);
console.log(`wrote ${out}`);
