import { join } from 'node:path';
import { type CheckpointConfigInput, saveCheckpoint } from '../../core/checkpoint.js';
import { ResdetError } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';
import {
  type ComputedStep,
  type FitToTime,
  runTrainLoop,
  type StopReason,
  type TrainLoopResult,
  type TrainTask,
} from '../../core/train/loop.js';
import { METRICS_FILE, MetricsLog } from '../../core/train/metrics.js';
import {
  learningRate,
  observeTrainError,
  observeValError,
  type ScheduleSpec,
} from '../../core/train/schedule.js';
import type { Sgd } from '../../core/train/sgd.js';
import type { Batch, Normalisation } from '../../data/classification/augment.js';
import type { AugmentPlan } from '../../data/classification/batches.js';
import { BatchSource } from '../../data/classification/loader.js';
import { type ClassificationSet, setLength } from '../../data/classification/types.js';
import { type EvalResult, evaluateClassifier } from './evaluate.js';
import type { ClassifierNet } from './net.js';
import { Prefetcher } from './prefetch.js';
import { mixSeed, type RunState } from './state.js';
import { computeGradients } from './step.js';

export { METRICS_FILE };

export interface TrainLoopOptions {
  net: ClassifierNet;
  sgd: Sgd;
  train: ClassificationSet;
  /** Validation split held out from training data (CIFAR's 5k), if any. */
  val?: ClassificationSet;
  /** The dataset's test set, evaluated after every epoch (paper Fig. 4/6 plot test error). */
  test?: ClassificationSet;
  norm: Normalisation;
  plan: AugmentPlan;
  schedule: ScheduleSpec;
  batchSize: number;
  microBatch: number;
  totalIterations: number;
  state: RunState;
  outDir: string;
  /**
   * Everything in the checkpoint's config.json besides the run state; called at each save with
   * the run's current total (fit-to-time may have lowered it).
   */
  checkpoint: (totalIterations: number) => Omit<CheckpointConfigInput, 'training'> & {
    training: Record<string, unknown>;
  };
  maxMinutes?: number;
  /** With maxMinutes: shrink the run and rebuild its schedule for the new total (see core/train). */
  fitToTime?: { rebuild: (totalIterations: number) => ScheduleSpec };
  /** Stops the run, with a checkpoint, after the iteration in progress. */
  signal?: AbortSignal;
  /** Also checkpoint every this many iterations (besides every epoch). */
  checkpointEvery?: number;
  /** Evaluate at most this many test/val images per epoch. */
  evalLimit?: number;
  evalBatchSize?: number;
  /** Write a `train` metrics record every this many iterations. */
  logEvery?: number;
  /** Worker threads that build training batches ahead of the model (0: on the training thread). */
  workers?: number;
  silent?: boolean;
  log?: (line: string) => void;
}

export interface TrainResult {
  stopped: StopReason;
  /** The AbortSignal's reason when stopped is 'aborted' (the CLI's: 'SIGINT' or 'SIGTERM'). */
  abortReason?: unknown;
  /** The run's total at the end (fit-to-time may have lowered it). */
  totalIterations: number;
  state: RunState;
  lastEval?: { val?: EvalResult; test?: EvalResult };
}

/**
 * The stop reason under pretraining's names from before core/train (`resdet pretrain --json`'s
 * `stopped`): 'done', 'time', or the abort reason (the CLI's signal name, 'SIGINT' or 'SIGTERM').
 */
export function pretrainStopName(r: Pick<TrainResult, 'stopped' | 'abortReason'>): string {
  if (r.stopped === 'time-limit') return 'time';
  if (r.stopped === 'aborted') return String(r.abortReason ?? 'aborted');
  return 'done';
}

/** Batches per epoch: the last partial batch is dropped (BN wants full batches), at least one. */
export function batchesPerEpoch(n: number, batchSize: number): number {
  return Math.max(1, Math.floor(n / batchSize));
}

/** The image order of `epoch`: a permutation that depends on the run seed and the epoch only. */
export function epochOrder(seed: number, epoch: number, n: number): number[] {
  return new Rng(mixSeed(seed, epoch)).permutation(n);
}

/**
 * Classifier pretraining as a task of core/train's loop: batches in a seeded order per epoch,
 * a `train` record every `logEvery` iterations, an `epoch` record, evaluation and the plateau
 * rule at each epoch's end, checkpoints every epoch (and every `checkpointEvery` iterations).
 */
export async function trainLoop(o: TrainLoopOptions): Promise<TrainResult> {
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const state = o.state;
  const n = setLength(o.train);
  const bs = Math.min(o.batchSize, n);
  const perEpoch = batchesPerEpoch(n, bs);
  const params = o.net.params();
  const metrics = new MetricsLog(join(o.outDir, METRICS_FILE));
  const logEvery = o.logEvery ?? Math.max(1, Math.min(20, Math.floor(perEpoch / 4)));
  let schedule = o.schedule;
  let total = o.totalIterations;
  let sessionSecondsAtSave = 0;
  let lastEval: TrainResult['lastEval'];
  let epochEnded = false;
  // nonFinite() reads the weights right before each save; save() writes what it read.
  let pendingWeights: Awaited<ReturnType<ClassifierNet['stateDict']>> | undefined;

  const source = new BatchSource(o.train, o.norm, o.plan, o.workers ?? 1);
  let prefetch: { epoch: number; batches: Prefetcher<Batch> } | undefined;
  const batchAt = (epoch: number, k: number): Promise<Batch> => {
    if (prefetch?.epoch !== epoch) {
      const order = epochOrder(state.seed, epoch, n);
      prefetch = {
        epoch,
        batches: new Prefetcher<Batch>(
          (j) => source.train(order.slice(j * bs, (j + 1) * bs), mixSeed(state.seed, epoch, j, 1)),
          perEpoch,
          2,
        ),
      };
    }
    return prefetch.batches.get(k);
  };

  let winLoss = 0;
  let winWrong = 0;
  let winImages = 0;
  let winStart = performance.now();

  const evaluateEpoch = async () => {
    const opts = { batchSize: o.evalBatchSize ?? Math.max(bs, 100), limit: o.evalLimit };
    const out: NonNullable<TrainResult['lastEval']> = {};
    for (const [split, set] of [
      ['val', o.val],
      ['test', o.test],
    ] as const) {
      if (!set || setLength(set) === 0) continue;
      const r = await evaluateClassifier(o.net, set, o.norm, o.plan, opts);
      out[split] = r;
      metrics.write({
        type: 'eval',
        split,
        epoch: state.epoch,
        iteration: state.iteration,
        top1Error: r.top1Error,
        top5Error: r.top5Error,
        loss: r.loss,
        images: r.images,
      });
    }
    return out;
  };

  /** The end of an epoch (or of the run): the epoch record, evaluation, the plateau rule. */
  const finishEpoch = async (note: (line: string) => void) => {
    const epochDone = state.batchInEpoch >= perEpoch;
    metrics.write({
      type: 'epoch',
      epoch: state.epoch + (epochDone ? 1 : state.batchInEpoch / perEpoch),
      iteration: state.iteration,
      loss: state.epochImages ? state.epochLoss / state.epochImages : null,
      error: state.epochImages ? state.epochWrong / state.epochImages : null,
    });
    lastEval = await evaluateEpoch();
    const summary = [`epoch ${state.epoch + 1}`, `iteration ${state.iteration}/${total}`];
    summary.push(`train err ${((100 * state.epochWrong) / Math.max(1, state.epochImages)).toFixed(2)}%`);
    if (lastEval.val) summary.push(`val err ${(100 * lastEval.val.top1Error).toFixed(2)}%`);
    if (lastEval.test) summary.push(`test err ${(100 * lastEval.test.top1Error).toFixed(2)}%`);
    note(summary.join(', '));
    const plateauOn = lastEval.val ?? lastEval.test;
    if (plateauOn && observeValError(schedule, state.schedule, plateauOn.top1Error)) {
      note('validation error plateaued: learning rate divided by 10');
    }
    if (epochDone) {
      state.epoch++;
      state.batchInEpoch = 0;
      state.epochLoss = 0;
      state.epochWrong = 0;
      state.epochImages = 0;
    }
  };

  const task: TrainTask<ComputedStep & { lr: number; wrong: number }> = {
    async compute(ctx) {
      const batch = await batchAt(state.epoch, state.batchInEpoch);
      const lr = learningRate(schedule, state.schedule, state.iteration, ctx.total);
      const step = await computeGradients(o.net, params, batch, o.microBatch);
      const m = batch.y.length;
      return {
        loss: step.loss,
        units: m,
        show: { loss: step.loss, err: step.wrong / m, lr },
        apply: () => o.sgd.step(step.grads, lr),
        dispose: () => {
          for (const g of step.grads.values()) g.dispose();
        },
        lr,
        wrong: step.wrong,
      };
    },
    diverged({ loss, lr }, ctx) {
      return new ResdetError(
        `training loss became ${loss} at iteration ${state.iteration + 1} (epoch ${state.epoch + 1}, lr ${lr}); ` +
          `stopped without applying the update. The last good checkpoint in ${o.outDir} is from iteration ${ctx.lastSaved}`,
        'lower the learning rate (--lr), or check the data for corrupt images; --resume continues from that checkpoint',
      );
    },
    afterStep(step, ctx) {
      const { lr, wrong, units: m } = step;
      state.iteration++;
      state.batchInEpoch++;
      state.epochLoss += step.loss * m;
      state.epochWrong += wrong;
      state.epochImages += m;
      winLoss += step.loss * m;
      winWrong += wrong;
      winImages += m;
      if (observeTrainError(schedule, state.schedule, state.iteration - 1, winWrong / winImages)) {
        ctx.note(`warm-up ended at iteration ${state.iteration} (training error below the threshold)`);
      }
      epochEnded = state.batchInEpoch >= perEpoch || state.iteration >= ctx.total;
      if (state.iteration % logEvery === 0 || state.batchInEpoch === perEpoch) {
        const secs = (performance.now() - winStart) / 1000;
        metrics.write({
          type: 'train',
          epoch: state.epoch + state.batchInEpoch / perEpoch,
          iteration: state.iteration,
          lr,
          loss: winLoss / winImages,
          error: winWrong / winImages,
          imgPerSec: secs > 0 ? winImages / secs : null,
        });
        winLoss = 0;
        winWrong = 0;
        winImages = 0;
        winStart = performance.now();
      }
    },
    evaluation: { due: () => epochEnded, run: (ctx) => finishEpoch(ctx.note), atEnd: false },
    checkpoint: {
      due: (ctx) =>
        epochEnded || (o.checkpointEvery !== undefined && ctx.iteration % o.checkpointEvery === 0),
      async save(ctx) {
        const now = ctx.elapsedSeconds();
        state.trainSeconds += now - sessionSecondsAtSave;
        sessionSecondsAtSave = now;
        const config = o.checkpoint(total);
        saveCheckpoint(
          o.outDir,
          { ...config, training: { ...config.training, state: { ...state } } },
          pendingWeights ?? (await o.net.stateDict()),
          await o.sgd.stateDict(),
        );
        pendingWeights = undefined;
      },
    },
    async nonFinite() {
      // A finite loss can come with overflowed BN statistics; such weights are not a checkpoint.
      pendingWeights = await o.net.stateDict();
      return Object.entries(pendingWeights)
        .filter(([, t]) => t.data instanceof Float32Array && !t.data.every(Number.isFinite))
        .map(([name]) => name);
    },
    nonFiniteError(names, ctx) {
      return new ResdetError(
        `${names[0]} holds NaN or infinite values at iteration ${state.iteration} (epoch ${state.epoch + 1}); ` +
          `training diverged. The last good checkpoint in ${o.outDir} is from iteration ${ctx.lastSaved}`,
        'lower the learning rate (--lr); --resume continues from that checkpoint',
      );
    },
  };

  const fitToTime: FitToTime | undefined = o.fitToTime && {
    maxTotal: o.totalIterations,
    // Refit while the first decay is ahead (cosine and plateau: the first half of the run).
    refitUntil: (t) => (schedule.decay.kind === 'steps' ? (schedule.decay.milestones[0] ?? t) - 1 : t / 2),
    adopt: (t, ctx) => {
      total = t;
      schedule = o.fitToTime!.rebuild(t);
      ctx.note(
        `fitting the run to --max-minutes ${o.maxMinutes}: ${t} iterations` +
          (schedule.decay.kind === 'steps' ? `, lr steps at ${schedule.decay.milestones.join(', ')}` : ''),
      );
    },
  };

  let result: TrainLoopResult;
  try {
    // A checkpoint saved by a signal right at an epoch's last batch (before core/train/ did the
    // epoch's end in the same iteration): finish that epoch first.
    if (state.batchInEpoch >= perEpoch && state.iteration < total) await finishEpoch(log);
    result = await runTrainLoop({
      task,
      startIteration: state.iteration,
      totalIterations: total,
      signal: o.signal,
      maxMinutes: o.maxMinutes,
      fitToTime,
      progress: { label: 'train', unit: 'img', unitsPerIteration: bs, silent: o.silent },
      log,
    });
  } finally {
    await source.close();
  }
  if (result.stopped !== 'done') {
    const why = result.stopped === 'time-limit' ? 'time limit' : String(result.abortReason ?? 'aborted');
    log(`stopped (${why}) at iteration ${state.iteration}; checkpoint saved in ${o.outDir}`);
  }
  return {
    stopped: result.stopped,
    abortReason: result.abortReason,
    totalIterations: total,
    state,
    lastEval,
  };
}
