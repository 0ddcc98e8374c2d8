/**
 * Times the whole `resdet eval coco` command (process start, loading both files, evaluate,
 * accumulate, summarize) on the val2017-sized synthetic set of coco-eval-gen.ts.
 *
 *   nice npx tsx bench/coco-eval.ts [--runs 3] [--dir runs/bench-coco]
 *
 * Reference: pycocotools needs ~95 s for the same sizes on this 2-core machine.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateCocoEvalSet } from './coco-eval-gen.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const dir = arg('--dir', 'runs/bench-coco');
const runs = Number(arg('--runs', '3'));
if (!existsSync(join(dir, 'gt.json')) || !existsSync(join(dir, 'dt.json'))) {
  const { gt, dt } = generateCocoEvalSet({
    images: 5000,
    gtPerImage: 7.36,
    detections: 500000,
    seed: 2017,
    segmentation: true,
  });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'gt.json'), JSON.stringify(gt));
  writeFileSync(join(dir, 'dt.json'), JSON.stringify(dt));
}

// Prefer the built CLI (what `npx resdet` runs); fall back to the sources through tsx.
// --cli PATH picks a build elsewhere (e.g. `tsc -p tsconfig.build.json --outDir .tmp-dist`).
const cliArg = arg('--cli', '');
const cli = cliArg
  ? [cliArg]
  : existsSync('dist/tools/bin.js')
    ? ['dist/tools/bin.js']
    : ['--import', 'tsx', 'tools/bin.ts'];
const times: number[] = [];
let detail = '';
for (let r = 0; r < runs; r++) {
  const t0 = performance.now();
  const res = spawnSync(
    process.execPath,
    [
      ...cli,
      '--verbose',
      'eval',
      'coco',
      '--gt',
      join(dir, 'gt.json'),
      '--dt',
      join(dir, 'dt.json'),
      '--json',
    ],
    { encoding: 'utf8', maxBuffer: 1 << 26 },
  );
  const sec = (performance.now() - t0) / 1000;
  if (res.status !== 0) throw new Error(`resdet eval coco failed: ${res.stderr}`);
  times.push(sec);
  detail = res.stderr.trim();
  console.log(`run ${r + 1}: ${sec.toFixed(2)} s  (${detail})`);
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];
console.log(
  `resdet eval coco, 5000 images / 500k detections: median ${median.toFixed(2)} s over ${runs} runs (pycocotools: ~95 s)`,
);
writeFileSync(
  join(dir, 'result.json'),
  JSON.stringify({ median_s: median, runs: times, detail, cli: cli.join(' ') }, null, 2),
);
