import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_FILE } from '../../core/checkpoint.js';
import { writeChartGridPng } from '../../core/plot.js';
import { curvesChart, readRunCurves } from './curves.js';
import type { ScheduleKind } from './recipes.js';
import { pretrain } from './run.js';
import { METRICS_FILE } from '../../core/train/metrics.js';
import { pretrainStopName } from './trainer.js';

export interface DegradationOptions {
  /** `fashion-mnist[:DIR]` or `cifar10:DIR`. */
  data: string;
  depths: number[];
  out: string;
  /** Wall-time budget for the whole experiment, split evenly over its runs. */
  maxMinutes?: number;
  iterations?: number;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  schedule?: ScheduleKind;
  subset?: number;
  testSubset?: number;
  width?: number;
  seed?: number;
  /** Stops the run in progress (with its checkpoint) and the experiment. */
  signal?: AbortSignal;
  silent?: boolean;
  log?: (line: string) => void;
}

export interface DegradationRun {
  arch: string;
  dir: string;
  iteration: number;
  stopped: string;
  /** Training error over the last logged window, and the last test error (fractions). */
  trainError: number | null;
  testError: number | null;
}

export interface DegradationResult {
  runs: DegradationRun[];
  plot: string;
}

/**
 * The paper's degradation experiment (Fig. 1, Fig. 6): plain and residual nets of each depth,
 * trained alike; with plain nets the deeper one has the higher training error, with residual nets
 * the deeper one is better. Each run is an ordinary pretraining run in OUT/<arch>, resumed when it
 * already exists, so an interrupted experiment continues.
 */
export async function degradationExperiment(o: DegradationOptions): Promise<DegradationResult> {
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const archs = o.depths.flatMap((d) => [`plain${d}`, `resnet${d}`]);
  const perRun = o.maxMinutes !== undefined ? o.maxMinutes / archs.length : undefined;
  const runs: DegradationRun[] = [];
  for (const arch of archs) {
    if (o.signal?.aborted) break;
    const dir = join(o.out, arch);
    const resume = existsSync(join(dir, CONFIG_FILE));
    log(`${arch}: ${resume ? 'resuming' : 'training'} in ${dir}`);
    const r = await pretrain({
      data: o.data,
      arch,
      out: dir,
      resume,
      recipe: 'cifar',
      iterations: o.iterations,
      epochs: o.iterations === undefined ? o.epochs : undefined,
      batchSize: o.batchSize,
      lr: o.lr,
      schedule: o.schedule,
      subset: o.subset,
      testSubset: o.testSubset,
      valSplit: 0,
      width: o.width,
      seed: o.seed,
      maxMinutes: perRun,
      signal: o.signal,
      silent: o.silent,
      log,
    });
    const curves = readRunCurves(join(dir, METRICS_FILE), arch);
    runs.push({
      arch,
      dir,
      iteration: r.state.iteration,
      stopped: pretrainStopName(r),
      trainError: curves.train.length ? curves.train[curves.train.length - 1][1] / 100 : null,
      testError: curves.test.length ? curves.test[curves.test.length - 1][1] / 100 : null,
    });
  }
  const plot = join(o.out, 'degradation.png');
  const panel = (kind: 'plain' | 'resnet') =>
    curvesChart(
      runs
        .filter((r) => r.arch.startsWith(kind))
        .map((r) => readRunCurves(join(r.dir, METRICS_FILE), r.arch)),
      { title: kind === 'plain' ? 'plain networks' : 'residual networks', smooth: 3 },
    );
  await writeChartGridPng(plot, {
    title: `degradation on ${o.data.split(':')[0]}: training (dashed) and test (solid) error`,
    charts: [panel('plain'), panel('resnet')],
    columns: 2,
    panelWidth: 520,
    panelHeight: 360,
  });
  return { runs, plot };
}
