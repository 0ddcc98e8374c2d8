import { backendComputesValues } from '../backend.js';
import { Progress } from '../progress.js';

/**
 * Why a run stopped: it reached its total, its time budget (--max-minutes) ran out, or its
 * AbortSignal fired (the CLI aborts on SIGINT/SIGTERM; `abortReason` then holds the signal's
 * reason, e.g. 'SIGTERM').
 */
export type StopReason = 'done' | 'time-limit' | 'aborted';

/** Where the loop stands, as every hook sees it. */
export interface LoopContext {
  /** Completed iterations (optimizer steps). */
  readonly iteration: number;
  /** The run's total; fit-to-time may lower it during the run. */
  readonly total: number;
  /** The iteration of the last checkpoint this loop knows of (for divergence messages). */
  readonly lastSaved: number;
  /** Seconds this process has spent in the loop. */
  elapsedSeconds(): number;
  /** Writes a line above the progress bar (or to `log` when it is silent). */
  note(line: string): void;
}

/**
 * One computed step, not yet applied: the loop applies it only when `loss` is finite, and throws
 * `diverged(loss)` otherwise, leaving the last checkpoint as the last good state.
 */
export interface ComputedStep {
  loss: number;
  /** Progress-bar units this step did (images, or 1 iteration). */
  units: number;
  /** Shown after the rate on the progress bar. */
  show: Record<string, number>;
  apply(): void;
  /** Frees the gradients whether or not the step was applied. */
  dispose(): void;
}

/** What a task (pretraining, detector training) plugs into the loop. */
export interface TrainTask<S extends ComputedStep = ComputedStep> {
  /** Forward and backward for the iteration after `ctx.iteration`. */
  compute(ctx: LoopContext): Promise<S>;
  /** The error a non-finite loss raises (nothing was applied). */
  diverged(step: S, ctx: LoopContext): Error;
  /** After each applied step: the task's bookkeeping (its metrics records, epoch ends). */
  afterStep?(step: S, ctx: LoopContext): Promise<void> | void;
  /** Evaluation hook: run when `due` says so after a step, and once when the run completes. */
  evaluation?: {
    due(ctx: LoopContext): boolean;
    run(ctx: LoopContext): Promise<void>;
    /** Evaluate once more when the run reaches its total (default true). */
    atEnd?: boolean;
  };
  /** After evaluation, before the checkpoint: decisions that need both (plateau, epoch advance). */
  endOfIteration?(ctx: LoopContext): Promise<void> | void;
  /** Checkpoint hook: saves everything --resume needs. */
  checkpoint: {
    due(ctx: LoopContext): boolean;
    save(ctx: LoopContext): Promise<void>;
  };
  /**
   * Names of parameters (or buffers) that are not finite: a finite loss can come with overflowed
   * weights, and such a state must not replace the last good checkpoint.
   */
  nonFinite(): Promise<string[]> | string[];
  /** The error raised for them. */
  nonFiniteError(names: string[], ctx: LoopContext): Error;
  /** After each save (e.g. redraw the run's plot); failures are noted, not fatal. */
  afterSave?(ctx: LoopContext): Promise<void>;
}

export interface FitToTime {
  /** The longest the run may become (its requested total). */
  maxTotal: number;
  /** Refits stop once the run reaches this iteration (e.g. its first lr decay). */
  refitUntil(total: number): number;
  /** The task adopts the new total: rebuilds its schedule, records it for the checkpoint. */
  adopt(total: number, ctx: LoopContext): void;
}

export interface TrainLoopOptions<S extends ComputedStep = ComputedStep> {
  task: TrainTask<S>;
  startIteration: number;
  totalIterations: number;
  /** Stops the run (with a checkpoint) after the iteration in progress. */
  signal?: AbortSignal;
  /** Stops the run (with a checkpoint) after this many minutes in this process. */
  maxMinutes?: number;
  /**
   * With maxMinutes: after 10 iterations, then every 100 and after each evaluation (whose cost the
   * first estimate cannot know), fit the run to what the time allows at the measured speed (5% of
   * the budget is kept for the final checkpoint and evaluation), so it ends with its learning rate
   * decayed, not cut off. Until `refitUntil` the run may grow or shrink; after it, only shrink.
   */
  fitToTime?: FitToTime;
  progress: { label: string; unit: string; unitsPerIteration: number; silent?: boolean };
  log?: (line: string) => void;
}

export interface TrainLoopResult {
  stopped: StopReason;
  /** The AbortSignal's reason, when stopped is 'aborted'. */
  abortReason?: unknown;
  iteration: number;
  total: number;
  seconds: number;
}

/**
 * The training loop every task runs: compute, guard, apply, bookkeeping, evaluation, checkpoint;
 * stop at the total, the time budget or the AbortSignal, always with a checkpoint. Installs no
 * signal handlers and never ends the process: a library caller owns both.
 */
export async function runTrainLoop<S extends ComputedStep>(o: TrainLoopOptions<S>): Promise<TrainLoopResult> {
  const { task } = o;
  const per = o.progress.unitsPerIteration;
  const progress = new Progress({
    total: o.totalIterations * per,
    start: o.startIteration * per,
    label: o.progress.label,
    unit: o.progress.unit,
    silent: o.progress.silent,
  });
  const start = performance.now();
  let iteration = o.startIteration;
  let total = o.totalIterations;
  let lastSaved = o.startIteration;
  const ctx: LoopContext = {
    get iteration() {
      return iteration;
    },
    get total() {
      return total;
    },
    get lastSaved() {
      return lastSaved;
    },
    elapsedSeconds: () => (performance.now() - start) / 1000,
    note: (line: string) => (o.progress.silent ? o.log?.(line) : progress.log(line)),
  };

  const save = async () => {
    // On a backend that computes no values (webgpu's null adapter) the guards stand aside.
    const bad = await task.nonFinite();
    if (bad.length > 0 && backendComputesValues()) throw task.nonFiniteError(bad, ctx);
    await task.checkpoint.save(ctx);
    lastSaved = iteration;
    await task.afterSave?.(ctx).catch((err: Error) => ctx.note(`after the checkpoint: ${err.message}`));
  };

  const fitAfter = o.startIteration + 10;
  const refit = (fit: FitToTime, maxMinutes: number, evaluated: boolean) => {
    const early = iteration < fit.refitUntil(total);
    const due = iteration === fitAfter || (iteration > fitAfter && (iteration % 100 === 0 || evaluated));
    if (!due) return;
    const perIteration = ctx.elapsedSeconds() / (iteration - o.startIteration);
    const fits = iteration + Math.floor((maxMinutes * 60 * 0.95 - ctx.elapsedSeconds()) / perIteration);
    const fitted = Math.min(fit.maxTotal, Math.max(iteration + 1, fits));
    if (Math.abs(fitted - total) <= 0.02 * total) return;
    // Past the first decay a refit only shortens the run (the time would not suffice otherwise).
    if (!early && fitted > total) return;
    total = fitted;
    fit.adopt(total, ctx);
    progress.setTotal(total * per);
  };

  let stopped: StopReason = 'done';
  try {
    while (iteration < total) {
      // In-memory batches resolve as microtasks; without a turn of the event loop an abort from a
      // signal handler or timer would wait for the next checkpoint.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (o.signal?.aborted) {
        stopped = 'aborted';
        ctx.note(
          `${String(o.signal.reason ?? 'aborted')}: stopping at iteration ${iteration} with a checkpoint`,
        );
        break;
      }
      if (o.maxMinutes !== undefined && ctx.elapsedSeconds() >= o.maxMinutes * 60) {
        stopped = 'time-limit';
        ctx.note(`--max-minutes ${o.maxMinutes} reached at iteration ${iteration}`);
        break;
      }
      const step = await task.compute(ctx);
      try {
        if (!Number.isFinite(step.loss) && backendComputesValues()) throw task.diverged(step, ctx);
        step.apply();
      } finally {
        step.dispose();
      }
      iteration++;
      await task.afterStep?.(step, ctx);
      progress.tick(step.units, step.show);
      const evaluate = task.evaluation?.due(ctx) ?? false;
      if (evaluate) await task.evaluation?.run(ctx);
      if (o.fitToTime && o.maxMinutes !== undefined) refit(o.fitToTime, o.maxMinutes, evaluate);
      await task.endOfIteration?.(ctx);
      if (task.checkpoint.due(ctx) && lastSaved !== iteration) await save();
    }
    if (stopped === 'done' && task.evaluation && task.evaluation.atEnd !== false)
      await task.evaluation.run(ctx);
    if (stopped !== 'done' || lastSaved !== iteration) await save();
  } finally {
    progress.finish();
  }
  return {
    stopped,
    abortReason: stopped === 'aborted' ? o.signal?.reason : undefined,
    iteration,
    total,
    seconds: ctx.elapsedSeconds(),
  };
}
