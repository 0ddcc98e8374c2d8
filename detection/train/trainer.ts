import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ResdetError } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';
import type { SafeTensor } from '../../core/safetensors.js';
import {
  type ComputedStep,
  type FitToTime,
  runTrainLoop,
  type StopReason,
  type TrainTask,
} from '../../core/train/loop.js';
import { METRICS_FILE, MetricsLog } from '../../core/train/metrics.js';
import { initialScheduleState, learningRate, type ScheduleSpec } from '../../core/train/schedule.js';
import { DETECTOR_WEIGHT_DECAY, gradsByParam, Sgd, type WeightDecay } from '../../core/train/sgd.js';
import { type DetectorMeta, saveDetector } from '../app/checkpoint.js';
import type { LossValues } from '../model/faster-rcnn.js';
import type { TwoStageDetector } from '../model/two-stage.js';
import type { TrainBatchSource } from './loader.js';
import { writeTrainingPlot } from './plot.js';
import { defaultSteps, fitDetectorSchedule } from './schedule.js';

export { METRICS_FILE };
export const LOSS_PLOT_FILE = 'loss.png';

export interface TrainerOptions {
  out: string;
  /** Total iterations of the run (a resumed run continues to the same total). */
  iterations: number;
  schedule: ScheduleSpec;
  momentum: number;
  /** Weight decay per parameter group (default: conv and linear kernels only, 1e-4). */
  weightDecay?: WeightDecay;
  /** Save a checkpoint every this many iterations (and at the end, when aborted, at the time limit). */
  checkpointEvery: number;
  /** Stop (with a checkpoint) after this many minutes of this process's training. */
  maxMinutes?: number;
  /**
   * With maxMinutes: after a few iterations, shrink `iterations` to what fits in the time at the
   * measured speed and move the decay steps to 2/3 and 8/9 of it, so the run ends with its
   * learning rate decayed instead of being cut off mid-schedule (used by `resdet demo`).
   */
  fitToTime?: boolean;
  /** Stops the run, with a checkpoint, after the iteration in progress (the CLI: SIGINT/SIGTERM). */
  signal?: AbortSignal;
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

export type { StopReason };

export interface TrainResult {
  iteration: number;
  stopped: StopReason;
  /** The AbortSignal's reason when stopped is 'aborted' (the CLI aborts with the signal's name). */
  abortReason?: unknown;
  /** `stopped` under the name `resdet train-detector --json` has always printed ('aborted' is 'signal'). */
  stoppedBy: 'done' | 'time-limit' | 'signal';
  /** The signal's name when the CLI's signal handling aborted the run. */
  signal?: NodeJS.Signals;
  /** Seconds spent training in this process, and in total over resumes. */
  seconds: number;
  totalSeconds: number;
  lastLoss?: LossValues;
  lastEval?: Record<string, number>;
  checkpoint: string;
}

/**
 * Detector training as a task of core/train's loop: SGD with momentum and weight decay on the
 * sum of the four Faster R-CNN losses, a `train` record per iteration, evaluation every
 * `evalEvery`, checkpoints every `checkpointEvery` (and whenever the run stops) with loss.png
 * redrawn after each.
 */
export async function runTraining(
  model: TwoStageDetector,
  loader: TrainBatchSource,
  opts: TrainerOptions,
): Promise<TrainResult> {
  const named = model.namedTrainableVariables();
  const variables = named.map((n) => n.variable);
  const weightDecay = opts.weightDecay ?? DETECTOR_WEIGHT_DECAY;
  const optimizer = new Sgd(named, { momentum: opts.momentum, weightDecay });
  if (opts.optimizerState) optimizer.loadStateDict(opts.optimizerState);
  const rng = opts.rngState !== undefined ? Rng.fromState(opts.rngState) : new Rng(opts.seed + 17);
  const metrics = new MetricsLog(join(opts.out, METRICS_FILE));
  // A kill after the last checkpoint leaves records of iterations this run does again.
  metrics.truncateAfter(opts.startIteration);
  const scheduleState = initialScheduleState();
  let schedule = opts.schedule;
  if (opts.fitToTime && schedule.decay.kind === 'steps' && schedule.decay.milestones.length === 0) {
    schedule = { ...schedule, decay: { ...schedule.decay, milestones: defaultSteps(opts.iterations) } };
  }
  let lastLoss: LossValues | undefined;
  let lastEval: Record<string, number> | undefined;

  type DetectorStep = ComputedStep & { lr: number; values: LossValues; started: number };
  const task: TrainTask<DetectorStep> = {
    async compute(ctx) {
      const lr = learningRate(schedule, scheduleState, ctx.iteration, ctx.total);
      const { batch, targets } = await loader.batch(ctx.iteration);
      const started = performance.now();
      let result: Awaited<ReturnType<TwoStageDetector['lossGradients']>>;
      try {
        // The losses are read back once, with await, inside lossGradients.
        result = await model.lossGradients(batch, targets, rng, variables);
      } finally {
        batch.images.dispose();
      }
      const byName = gradsByParam(named, result.grads);
      const { values } = result;
      return {
        loss: values.total ?? Number.NaN,
        units: 1,
        show: { loss: values.total, lr },
        apply: () => optimizer.step(byName, lr),
        dispose: () => tf.dispose([...byName.values()]),
        lr,
        values,
        started,
      };
    },
    diverged({ loss, values: v }, ctx) {
      return new ResdetError(
        `training diverged: the loss is ${loss} at iteration ${ctx.iteration + 1} ` +
          `(RPN objectness ${v.rpnObjectness}, RPN box ${v.rpnBox}, classifier ${v.classifier}, box ${v.box})`,
        `the last good checkpoint (iteration ${ctx.lastSaved}) is in ${opts.out}; lower --lr or check the data, then --resume`,
      );
    },
    afterStep(step, ctx) {
      lastLoss = step.values;
      metrics.write({
        type: 'train',
        iteration: ctx.iteration,
        lr: step.lr,
        ...lastLoss,
        seconds: (performance.now() - step.started) / 1000,
      });
    },
    evaluation: opts.evaluate && {
      due: (ctx) =>
        opts.evalEvery !== undefined && ctx.iteration % opts.evalEvery === 0 && ctx.iteration < ctx.total,
      async run(ctx) {
        const t0 = performance.now();
        lastEval = await opts.evaluate!(model, ctx.iteration);
        metrics.write({
          type: 'eval',
          iteration: ctx.iteration,
          seconds: (performance.now() - t0) / 1000,
          ...lastEval,
        });
        ctx.note(
          `iteration ${ctx.iteration}: ${Object.entries(lastEval)
            .map(([k, v]) => `${k} ${v.toFixed(4)}`)
            .join(', ')}`,
        );
      },
    },
    checkpoint: {
      due: (ctx) => ctx.iteration % opts.checkpointEvery === 0 && ctx.iteration < ctx.total,
      async save(ctx) {
        await saveDetector(
          opts.out,
          model,
          {
            ...opts.meta,
            training: {
              ...opts.trainingInfo,
              iteration: ctx.iteration,
              iterations: ctx.total,
              schedule,
              momentum: opts.momentum,
              weightDecay,
              seed: opts.seed,
              rngState: rng.getState(),
              elapsedSeconds: (opts.elapsedBefore ?? 0) + ctx.elapsedSeconds(),
              lastLoss,
              lastEval,
            },
          },
          await optimizer.stateDict(),
        );
      },
    },
    nonFinite: () => model.nonFiniteParameters(),
    nonFiniteError(bad, ctx) {
      return new ResdetError(
        `training diverged: parameters became non-finite at iteration ${ctx.iteration} (${bad.slice(0, 3).join(', ')}${bad.length > 3 ? ', ...' : ''})`,
        `the last good checkpoint (iteration ${ctx.lastSaved}) is in ${opts.out}; lower --lr or check the data, then --resume`,
      );
    },
    afterSave: async () => {
      await writeTrainingPlot(
        join(opts.out, METRICS_FILE),
        join(opts.out, LOSS_PLOT_FILE),
        `${model.config.arch}${model.config.backbone.baseWidth !== 64 ? `-w${model.config.backbone.baseWidth}` : ''} Faster R-CNN (${opts.trainingInfo?.dataset ?? 'training'})`,
      );
    },
  };
  const fitToTime: FitToTime | undefined = opts.fitToTime
    ? {
        maxTotal: opts.iterations,
        refitUntil: (t) =>
          schedule.decay.kind === 'steps' ? (schedule.decay.milestones[0] ?? t) - 1 : t / 2,
        adopt: (t, ctx) => {
          schedule = fitDetectorSchedule(opts.schedule, t);
          const steps = schedule.decay.kind === 'steps' ? schedule.decay.milestones : [];
          ctx.note(
            `fitting the run to --max-minutes ${opts.maxMinutes}: ${t} iterations, lr steps at ${steps.join(', ')}`,
          );
        },
      }
    : undefined;

  try {
    const result = await runTrainLoop({
      task,
      startIteration: opts.startIteration,
      totalIterations: opts.iterations,
      signal: opts.signal,
      maxMinutes: opts.maxMinutes,
      fitToTime,
      progress: { label: 'train-detector', unit: 'it', unitsPerIteration: 1, silent: opts.silent },
      log: opts.log,
    });
    return {
      iteration: result.iteration,
      stopped: result.stopped,
      abortReason: result.abortReason,
      stoppedBy: result.stopped === 'aborted' ? 'signal' : result.stopped,
      signal:
        result.abortReason === 'SIGINT' || result.abortReason === 'SIGTERM' ? result.abortReason : undefined,
      seconds: result.seconds,
      totalSeconds: (opts.elapsedBefore ?? 0) + result.seconds,
      lastLoss,
      lastEval,
      checkpoint: opts.out,
    };
  } finally {
    optimizer.dispose();
  }
}
