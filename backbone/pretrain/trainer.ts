import { backendComputesValues } from '../../core/backend.js';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../core/atomic.js';
import { type CheckpointConfigInput, saveCheckpoint } from '../../core/checkpoint.js';
import { ResdetError } from '../../core/errors.js';
import { MetricsWriter, Progress } from '../../core/progress.js';
import { Rng } from '../../core/rng.js';
import type { Batch, Normalisation } from '../../data/classification/augment.js';
import type { AugmentPlan } from '../../data/classification/batches.js';
import { BatchSource } from '../../data/classification/loader.js';
import { type ClassificationSet, setLength } from '../../data/classification/types.js';
import { type EvalResult, evaluateClassifier } from './evaluate.js';
import type { ClassifierNet } from './net.js';
import { Prefetcher } from './prefetch.js';
import { learningRate, observeTrainError, observeValError, type ScheduleSpec } from './schedule.js';
import type { Sgd } from './sgd.js';
import { mixSeed, type RunState } from './state.js';
import { computeGradients } from './step.js';

export const METRICS_FILE = 'metrics.jsonl';

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
  /** Everything in the checkpoint's config.json besides the run state. */
  checkpoint: Omit<CheckpointConfigInput, 'training'> & { training: Record<string, unknown> };
  maxMinutes?: number;
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

export type StopReason = 'done' | 'time' | 'SIGINT' | 'SIGTERM';

export interface TrainResult {
  stopped: StopReason;
  state: RunState;
  lastEval?: { val?: EvalResult; test?: EvalResult };
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
 * Drops metrics records past `iteration`: after a kill, the records written between the last
 * checkpoint and the kill describe iterations the resumed run does again.
 */
export function truncateMetrics(path: string, iteration: number): void {
  if (!existsSync(path)) return;
  const kept = readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => {
      if (!line.trim()) return false;
      try {
        const rec = JSON.parse(line) as { iteration?: number };
        return rec.iteration === undefined || rec.iteration <= iteration;
      } catch {
        return false;
      }
    });
  writeFileAtomic(path, [kept.map((l) => `${l}\n`).join('')]);
}

export async function trainLoop(o: TrainLoopOptions): Promise<TrainResult> {
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const state = o.state;
  const n = setLength(o.train);
  const bs = Math.min(o.batchSize, n);
  const perEpoch = batchesPerEpoch(n, bs);
  const params = o.net.params();
  const metrics = new MetricsWriter(join(o.outDir, METRICS_FILE));
  const logEvery = o.logEvery ?? Math.max(1, Math.min(20, Math.floor(perEpoch / 4)));
  const sessionStart = performance.now();
  let sessionSecondsAtSave = 0;
  let lastSavedIteration = state.iteration;
  let lastEval: TrainResult['lastEval'];

  const progress = new Progress({
    total: o.totalIterations * bs,
    start: state.iteration * bs,
    label: 'train',
    unit: 'img',
    silent: o.silent,
  });

  let stopSignal: 'SIGINT' | 'SIGTERM' | undefined;
  const onSignal = (sig: 'SIGINT' | 'SIGTERM') => {
    if (stopSignal) process.exit(sig === 'SIGINT' ? 130 : 143);
    stopSignal = sig;
    progress.log(`${sig}: saving a checkpoint after this iteration (send it again to quit at once)`);
  };
  const onInt = () => onSignal('SIGINT');
  const onTerm = () => onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);

  const save = async () => {
    const now = (performance.now() - sessionStart) / 1000;
    state.trainSeconds += now - sessionSecondsAtSave;
    sessionSecondsAtSave = now;
    const weights = await o.net.stateDict();
    // A finite loss can come with overflowed BN statistics; such weights are not a checkpoint.
    for (const [name, t] of Object.entries(weights)) {
      if (t.data instanceof Float32Array && !t.data.every(Number.isFinite) && backendComputesValues()) {
        throw new ResdetError(
          `${name} holds NaN or infinite values at iteration ${state.iteration} (epoch ${state.epoch + 1}); ` +
            `training diverged. The last good checkpoint in ${o.outDir} is from iteration ${lastSavedIteration}`,
          'lower the learning rate (--lr); --resume continues from that checkpoint',
        );
      }
    }
    saveCheckpoint(
      o.outDir,
      { ...o.checkpoint, training: { ...o.checkpoint.training, state: { ...state } } },
      weights,
      await o.sgd.stateDict(),
    );
    lastSavedIteration = state.iteration;
  };

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

  let stopped: StopReason = 'done';
  const source = new BatchSource(o.train, o.norm, o.plan, o.workers ?? 1);
  try {
    while (state.iteration < o.totalIterations) {
      const order = epochOrder(state.seed, state.epoch, n);
      const epochSeed = state.epoch;
      const prefetch = new Prefetcher<Batch>(
        (k) => source.train(order.slice(k * bs, (k + 1) * bs), mixSeed(state.seed, epochSeed, k, 1)),
        perEpoch,
        2,
      );
      let winLoss = 0;
      let winWrong = 0;
      let winImages = 0;
      let winStart = performance.now();
      while (state.batchInEpoch < perEpoch && state.iteration < o.totalIterations) {
        const batch = await prefetch.get(state.batchInEpoch);
        // Let the event loop run (signal handlers, timers): in-memory batches resolve as microtasks.
        await new Promise((resolve) => setImmediate(resolve));
        const lr = learningRate(o.schedule, state.schedule, state.iteration, o.totalIterations);
        const step = await computeGradients(o.net, params, batch, o.microBatch);
        if (!Number.isFinite(step.loss) && backendComputesValues()) {
          for (const g of step.grads.values()) g.dispose();
          throw new ResdetError(
            `training loss became ${step.loss} at iteration ${state.iteration + 1} (epoch ${state.epoch + 1}, lr ${lr}); ` +
              `stopped without applying the update. The last good checkpoint in ${o.outDir} is from iteration ${lastSavedIteration}`,
            'lower the learning rate (--lr), or check the data for corrupt images; --resume continues from that checkpoint',
          );
        }
        o.sgd.step(params, step.grads, lr);
        for (const g of step.grads.values()) g.dispose();
        const m = batch.y.length;
        state.iteration++;
        state.batchInEpoch++;
        state.epochLoss += step.loss * m;
        state.epochWrong += step.wrong;
        state.epochImages += m;
        winLoss += step.loss * m;
        winWrong += step.wrong;
        winImages += m;
        if (observeTrainError(o.schedule, state.schedule, state.iteration - 1, winWrong / winImages)) {
          progress.log(`warm-up ended at iteration ${state.iteration} (training error below the threshold)`);
        }
        progress.tick(m, { loss: step.loss, err: step.wrong / m, lr });
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
        if (o.checkpointEvery && state.iteration % o.checkpointEvery === 0) await save();
        if (stopSignal) break;
        if (o.maxMinutes !== undefined && (performance.now() - sessionStart) / 60000 >= o.maxMinutes) {
          stopped = 'time';
          break;
        }
      }
      if (stopSignal) {
        stopped = stopSignal;
        break;
      }
      if (state.batchInEpoch >= perEpoch || state.iteration >= o.totalIterations) {
        const epochDone = state.batchInEpoch >= perEpoch;
        metrics.write({
          type: 'epoch',
          epoch: state.epoch + (epochDone ? 1 : state.batchInEpoch / perEpoch),
          iteration: state.iteration,
          loss: state.epochImages ? state.epochLoss / state.epochImages : null,
          error: state.epochImages ? state.epochWrong / state.epochImages : null,
        });
        lastEval = await evaluateEpoch();
        const summary = [`epoch ${state.epoch + 1}`, `iteration ${state.iteration}/${o.totalIterations}`];
        summary.push(`train err ${((100 * state.epochWrong) / Math.max(1, state.epochImages)).toFixed(2)}%`);
        if (lastEval.val) summary.push(`val err ${(100 * lastEval.val.top1Error).toFixed(2)}%`);
        if (lastEval.test) summary.push(`test err ${(100 * lastEval.test.top1Error).toFixed(2)}%`);
        progress.log(summary.join(', '));
        const plateauOn = lastEval.val ?? lastEval.test;
        if (plateauOn && observeValError(o.schedule, state.schedule, plateauOn.top1Error)) {
          progress.log(`validation error plateaued: learning rate divided by 10`);
        }
        if (epochDone) {
          state.epoch++;
          state.batchInEpoch = 0;
          state.epochLoss = 0;
          state.epochWrong = 0;
          state.epochImages = 0;
        }
        await save();
      }
      if (stopped === 'time') break;
    }
    if (stopped !== 'done' || lastSavedIteration !== state.iteration) await save();
  } finally {
    await source.close();
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    progress.finish();
  }
  if (stopped !== 'done') {
    log(
      `stopped (${stopped === 'time' ? 'time limit' : stopped}) at iteration ${state.iteration}; checkpoint saved in ${o.outDir}`,
    );
  }
  return { stopped, state, lastEval };
}
