import { CONFIG_FILE } from '../checkpoint.js';
import { ResdetError } from '../errors.js';

/** Where a checkpointed run stands: what --resume needs from any training task's checkpoint. */
export interface ResumeState {
  /** Completed iterations (optimizer steps). */
  iteration: number;
  /** The run's total as last saved (fit-to-time may have lowered it). */
  totalIterations: number;
  /** Training seconds over every session of the run. */
  seconds: number;
  /** The run seed: initialisation, data order, augmentation and sampling derive from it. */
  seed: number;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/**
 * The resume state in a checkpoint's `training` record, as either task writes it (before
 * core/train and since): pretraining keeps it in `training.state` (the total in
 * `training.settings`), detector training in `training` itself. Undefined when the checkpoint
 * holds no run at all (e.g. `resdet init`); an error naming `dir` when a run's state is incomplete.
 */
export function readResumeState(
  training: Record<string, unknown> | undefined,
  dir: string,
): ResumeState | undefined {
  const t = training ?? {};
  const state = t.state as Record<string, unknown> | undefined;
  if (state === undefined && t.iteration === undefined) return undefined;
  const settings = t.settings as Record<string, unknown> | undefined;
  const out: Partial<ResumeState> = state
    ? {
        iteration: num(state.iteration),
        totalIterations: num(settings?.totalIterations),
        seconds: num(state.trainSeconds) ?? 0,
        seed: num(state.seed),
      }
    : {
        iteration: num(t.iteration),
        totalIterations: num(t.iterations),
        seconds: num(t.elapsedSeconds) ?? 0,
        seed: num(t.seed),
      };
  const missing = (['iteration', 'totalIterations', 'seed'] as const).filter((k) => out[k] === undefined);
  if (missing.length > 0) {
    throw new ResdetError(
      `${dir}/${CONFIG_FILE}: the run state to resume is incomplete (no ${missing.join(', ')})`,
      'the checkpoint was not written by `resdet pretrain` or `resdet train-detector`; start a new run',
    );
  }
  return out as ResumeState;
}
