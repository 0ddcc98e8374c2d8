import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ResdetError } from '../../core/errors.js';
import { MetricsWriter, Progress } from '../../core/progress.js';
import { Rng } from '../../core/rng.js';
import type { SafeTensor } from '../../core/safetensors.js';
import { type DetectorMeta, saveDetector } from '../checkpoint.js';
import type { LossValues } from '../model/faster-rcnn.js';
import type { TwoStageDetector } from '../model/two-stage.js';
import type { TrainBatchSource } from './loader.js';
import { writeTrainingPlot } from './plot.js';
import { defaultSteps, learningRate, type LrSchedule } from './schedule.js';
import { SgdMomentum } from './sgd.js';

export const METRICS_FILE = 'metrics.jsonl';
export const LOSS_PLOT_FILE = 'loss.png';

export interface TrainerOptions {
  out: string;
  /** Total iterations of the run (a resumed run continues to the same total). */
  iterations: number;
  schedule: LrSchedule;
  momentum: number;
  weightDecay: number;
  /** Save a checkpoint every this many iterations (and at the end, on a signal, at the time limit). */
  checkpointEvery: number;
  /** Stop (with a checkpoint) after this many minutes of this process's training. */
  maxMinutes?: number;
  /**
   * With maxMinutes: after a few iterations, shrink `iterations` to what fits in the time at the
   * measured speed and move the decay steps to 2/3 and 8/9 of it, so the run ends with its
   * learning rate decayed instead of being cut off mid-schedule (used by `resdet demo`).
   */
  fitToTime?: boolean;
  /** Evaluate every this many iterations (and at the end) with `evaluate`. */
  evalEvery?: number;
  evaluate?: (model: TwoStageDetector, iteration: number) => Promise<Record<string, number>>;
  /** Where the run stands: 0 for a new run, the checkpoint's iteration when resuming. */
  startIteration: number;
  /** Seconds of training before this process (resumed runs), for the wall-time record. */
  elapsedBefore?: number;
  optimizerState?: Record<string, SafeTensor>;
  /** State of the sampling RNG (anchors, RoIs) from the checkpoint. */
  rngState?: number;
  seed: number;
  /** Checkpoint contents besides weights; `training` is filled in here. */
  meta: DetectorMeta;
  /** Extra fields kept in config.json's `training` (dataset, batch size, backend ...). */
  trainingInfo?: Record<string, unknown>;
  silent?: boolean;
  log?: (line: string) => void;
}

export type StopReason = 'done' | 'time-limit' | 'signal';

export interface TrainResult {
  iteration: number;
  stoppedBy: StopReason;
  /** The signal that stopped the run, when stoppedBy is 'signal'. */
  signal?: NodeJS.Signals;
  /** Seconds spent training in this process, and in total over resumes. */
  seconds: number;
  totalSeconds: number;
  lastLoss?: LossValues;
  lastEval?: Record<string, number>;
  checkpoint: string;
}

/**
 * The training loop: SGD with momentum and weight decay on the sum of the four Faster R-CNN
 * losses, warm-up and step decay, checkpoints every N iterations and when stopped (time limit,
 * SIGINT/SIGTERM), metrics.jsonl and a loss plot. A non-finite loss stops the run before the bad
 * update is applied, leaving the last checkpoint as it was.
 */
export async function runTraining(
  model: TwoStageDetector,
  loader: TrainBatchSource,
  opts: TrainerOptions,
): Promise<TrainResult> {
  const named = model.namedTrainableVariables();
  const variables = named.map((n) => n.variable);
  const optimizer = new SgdMomentum(named, opts.momentum, opts.weightDecay);
  if (opts.optimizerState) optimizer.loadState(opts.optimizerState);
  const rng = opts.rngState !== undefined ? Rng.fromState(opts.rngState) : new Rng(opts.seed + 17);
  const metrics = new MetricsWriter(join(opts.out, METRICS_FILE));
  const progress = new Progress({
    total: opts.iterations,
    start: opts.startIteration,
    label: 'train-detector',
    unit: 'it',
    silent: opts.silent,
  });
  // Messages go above the progress bar, or to opts.log when the bar is silent.
  const note = (line: string) => (opts.silent ? opts.log?.(line) : progress.log(line));
  let stopSignal: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    stopSignal = sig;
    note(`${sig}: stopping after this iteration and saving a checkpoint`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const start = performance.now();
  const elapsed = () => (performance.now() - start) / 1000;
  let iteration = opts.startIteration;
  let lastLoss: LossValues | undefined;
  let lastEval: Record<string, number> | undefined;
  let lastSaved = opts.startIteration;

  const save = async () => {
    // A finite loss does not prove finite weights: one huge step can overflow them. Never let
    // such a state replace the last good checkpoint.
    const bad = model.nonFiniteParameters();
    if (bad.length > 0) {
      throw new ResdetError(
        `training diverged: parameters became non-finite at iteration ${iteration} (${bad.slice(0, 3).join(', ')}${bad.length > 3 ? ', ...' : ''})`,
        `the last good checkpoint (iteration ${lastSaved}) is in ${opts.out}; lower --lr or check the data, then --resume`,
      );
    }
    saveDetector(
      opts.out,
      model,
      {
        ...opts.meta,
        training: {
          ...opts.trainingInfo,
          iteration,
          iterations: total,
          schedule,
          momentum: opts.momentum,
          weightDecay: opts.weightDecay,
          seed: opts.seed,
          rngState: rng.getState(),
          elapsedSeconds: (opts.elapsedBefore ?? 0) + elapsed(),
          lastLoss,
          lastEval,
        },
      },
      optimizer.state(),
    );
    lastSaved = iteration;
    await writeTrainingPlot(
      join(opts.out, METRICS_FILE),
      join(opts.out, LOSS_PLOT_FILE),
      `${model.config.arch}${model.config.backbone.baseWidth !== 64 ? `-w${model.config.backbone.baseWidth}` : ''} Faster R-CNN (${opts.trainingInfo?.dataset ?? 'training'})`,
    ).catch((err: Error) => note(`could not write the loss plot: ${err.message}`));
  };

  const runEval = async () => {
    if (!opts.evaluate) return;
    const t0 = performance.now();
    lastEval = await opts.evaluate(model, iteration);
    metrics.write({ type: 'eval', iteration, seconds: (performance.now() - t0) / 1000, ...lastEval });
    note(
      `iteration ${iteration}: ${Object.entries(lastEval)
        .map(([k, v]) => `${k} ${v.toFixed(4)}`)
        .join(', ')}`,
    );
  };

  let total = opts.iterations;
  let schedule = opts.schedule;
  const fitAfter = opts.startIteration + 10;
  if (opts.fitToTime && schedule.steps.length === 0) schedule = { ...schedule, steps: defaultSteps(total) };
  let stoppedBy: StopReason = 'done';
  try {
    while (iteration < total) {
      // A small cached set makes every await below resolve as a microtask: without a turn of the
      // event loop, SIGINT/SIGTERM handlers would wait for the next checkpoint (500 iterations).
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (stopSignal) {
        stoppedBy = 'signal';
        break;
      }
      if (opts.maxMinutes !== undefined && elapsed() >= opts.maxMinutes * 60) {
        stoppedBy = 'time-limit';
        note(`--max-minutes ${opts.maxMinutes} reached at iteration ${iteration}`);
        break;
      }
      const lr = learningRate(schedule, iteration);
      const { batch, targets } = await loader.batch(iteration);
      const values: Partial<LossValues> = {};
      const t0 = performance.now();
      let grads: tf.NamedTensorMap | undefined;
      try {
        const result = tf.variableGrads(() => model.losses(batch, targets, rng, values), variables);
        result.value.dispose();
        grads = result.grads;
        const total = values.total ?? Number.NaN;
        if (!Number.isFinite(total)) {
          throw new ResdetError(
            `training diverged: the loss is ${total} at iteration ${iteration + 1} ` +
              `(RPN objectness ${values.rpnObjectness}, RPN box ${values.rpnBox}, classifier ${values.classifier}, box ${values.box})`,
            `the last good checkpoint (iteration ${lastSaved}) is in ${opts.out}; lower --lr or check the data, then --resume`,
          );
        }
        optimizer.step(grads, lr);
      } finally {
        if (grads) tf.dispose(Object.values(grads));
        batch.images.dispose();
      }
      iteration++;
      lastLoss = values as LossValues;
      metrics.write({
        type: 'train',
        iteration,
        lr,
        ...lastLoss,
        seconds: (performance.now() - t0) / 1000,
      });
      progress.tick(1, { loss: lastLoss.total, lr });
      // Fitted after 10 iterations, then re-fitted every 100 (startup is slow, and the machine's
      // load changes) while the first decay step is still ahead; never beyond opts.iterations.
      const refit =
        iteration === fitAfter ||
        (iteration > fitAfter && iteration % 100 === 0 && iteration < schedule.steps[0] - 1);
      if (opts.fitToTime && opts.maxMinutes !== undefined && refit) {
        // Rate since the start of this process; 5% of the budget is left for the final
        // checkpoint and evaluation.
        const perIteration = elapsed() / (iteration - opts.startIteration);
        const fits = iteration + Math.floor((opts.maxMinutes * 60 * 0.95 - elapsed()) / perIteration);
        const fitted = Math.min(opts.iterations, Math.max(iteration + 1, fits));
        if (Math.abs(fitted - total) > 0.02 * total) {
          total = fitted;
          schedule = {
            ...schedule,
            steps: defaultSteps(total),
            warmupIters: Math.min(opts.schedule.warmupIters, Math.floor(total / 5)),
          };
          note(
            `fitting the run to --max-minutes ${opts.maxMinutes}: ${total} iterations, lr steps at ${schedule.steps.join(', ')}`,
          );
          progress.setTotal(total);
        }
      }
      if (opts.evalEvery && iteration % opts.evalEvery === 0 && iteration < total) await runEval();
      if (iteration % opts.checkpointEvery === 0 && iteration < total) await save();
    }
    if (stoppedBy === 'done' && opts.evaluate) await runEval();
    await save();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    progress.finish();
    optimizer.dispose();
  }
  return {
    iteration,
    stoppedBy,
    signal: stoppedBy === 'signal' ? stopSignal : undefined,
    seconds: elapsed(),
    totalSeconds: (opts.elapsedBefore ?? 0) + elapsed(),
    lastLoss,
    lastEval,
    checkpoint: opts.out,
  };
}
