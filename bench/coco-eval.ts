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
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { generateCocoEvalSet, VAL2017_LIKE } from './coco-eval-gen.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const dir = arg('--dir', 'runs/bench-coco');
const runs = Number(arg('--runs', '3'));
if (!existsSync(join(dir, 'gt.json')) || !existsSync(join(dir, 'dt.json'))) {
  const { gt, dt } = generateCocoEvalSet(VAL2017_LIKE);
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
const cpus: number[] = [];
let detail = '';
// CPU seconds (user + sys) of the child, through GNU time when present: on a shared machine
// the wall time mostly measures the other jobs.
const gnuTime = existsSync('/usr/bin/time');
for (let r = 0; r < runs; r++) {
  const args = [
    ...cli,
    '--verbose',
    'eval',
    'coco',
    '--gt',
    join(dir, 'gt.json'),
    '--dt',
    join(dir, 'dt.json'),
    '--json',
  ];
  const t0 = performance.now();
  const res = gnuTime
    ? spawnSync('/usr/bin/time', ['-f', 'CPU %U %S', process.execPath, ...args], {
        encoding: 'utf8',
        maxBuffer: 1 << 26,
      })
    : spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  const sec = (performance.now() - t0) / 1000;
  if (res.status !== 0) throw new Error(`resdet eval coco failed: ${res.stderr}`);
  times.push(sec);
  const lines = res.stderr.trim().split('\n');
  const cpuLine = /^CPU ([\d.]+) ([\d.]+)$/.exec(lines[lines.length - 1] ?? '');
  if (cpuLine) {
    cpus.push(Number(cpuLine[1]) + Number(cpuLine[2]));
    lines.pop();
  }
  detail = lines.join(' ');
  console.log(
    `run ${r + 1}: ${sec.toFixed(2)} s wall${cpuLine ? `, ${cpus[cpus.length - 1].toFixed(2)} s CPU` : ''}  (${detail})`,
  );
}
cpus.sort((a, b) => a - b);
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];
console.log(
  `resdet eval coco on ${dir}: median ${median.toFixed(2)} s wall${cpus.length ? `, ${cpus[Math.floor(cpus.length / 2)].toFixed(2)} s CPU` : ''} over ${runs} runs (pycocotools on the generated 5,000-image / 500k-detection set: ~95 s)`,
);
const out = arg('--out', join(dir, 'result.json'));
const record = {
  median_s: median,
  median_cpu_s: cpus.length ? cpus[Math.floor(cpus.length / 2)] : null,
  runs: times,
  cpu_s: cpus,
  detail,
  cli: cli.join(' '),
  loadavg_1min: loadavg()[0],
  date: new Date().toISOString(),
};
writeFileSync(out, `${JSON.stringify(record, null, 2)}\n`);
