import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../core/backend.js';
import { ResdetError } from '../../core/errors.js';
import { type ComputedStep, runTrainLoop, type TrainTask } from '../../core/train/loop.js';
import { MetricsLog, readMetrics, runKind } from '../../core/train/metrics.js';
import { readResumeState } from '../../core/train/resume.js';
import { initialScheduleState, learningRate, type ScheduleSpec } from '../../core/train/schedule.js';
import { storedDetectorSchedule } from '../../detection/train/schedule.js';
import { FIXTURE_DIR } from '../fixtures/resume/runs.js';
import { DETECTOR_WEIGHT_DECAY, type NamedParam, Sgd, uniformDecay } from '../../core/train/sgd.js';

const tmp = mkdtempSync(join(tmpdir(), 'resdet-engine-'));

beforeAll(async () => {
  await initBackend('cpu');
});

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

const grads = (entries: [string, number[]][]) => new Map(entries.map(([n, v]) => [n, tf.tensor1d(v)]));

describe('Sgd', () => {
  it('matches v = m v + g + wd w; w -= lr v, with decay per parameter group', () => {
    const w = tf.variable(tf.tensor1d([1, -2]));
    const b = tf.variable(tf.tensor1d([1, -2]));
    const params: NamedParam[] = [
      { name: 'fc.weight', variable: w, group: 'weight' },
      { name: 'fc.bias', variable: b, group: 'bias' },
    ];
    const sgd = new Sgd(params, { momentum: 0.9, weightDecay: { weight: 0.1, bias: 0, norm: 0 } });
    const g = () =>
      grads([
        ['fc.weight', [0.5, 0.5]],
        ['fc.bias', [0.5, 0.5]],
      ]);
    sgd.step(g(), 0.1); // weight: v = [0.6, 0.3]; w = [0.94, -2.03]. bias: v = [0.5, 0.5]; b = [0.95, -2.05]
    sgd.step(g(), 0.1); // weight: v = 0.9v + g + 0.1w = [1.134, 0.567]; w = [0.8266, -2.0867]
    expect(Array.from(w.dataSync())).toEqual([expect.closeTo(0.8266, 5), expect.closeTo(-2.0867, 5)]);
    // bias (no decay): v = 0.9 * 0.5 + 0.5 = 0.95; b = 0.95 - 0.095 = 0.855, -2.05 - 0.095 = -2.145
    expect(Array.from(b.dataSync())).toEqual([expect.closeTo(0.855, 5), expect.closeTo(-2.145, 5)]);
    sgd.dispose();
  });

  it("saves momentum_buffer.<name>, restores it, and reads the detector trainer's old bare names", async () => {
    const w = tf.variable(tf.tensor1d([1, -2]));
    const params: NamedParam[] = [{ name: 'fc.weight', variable: w, group: 'weight' }];
    const sgd = new Sgd(params, { momentum: 0.9, weightDecay: uniformDecay(0.1) });
    sgd.step(grads([['fc.weight', [0.5, 0.5]]]), 0.1);
    const saved = await sgd.stateDict();
    expect(Object.keys(saved)).toEqual(['momentum_buffer.fc.weight']);
    expect(Array.from(saved['momentum_buffer.fc.weight'].data as Float32Array)).toEqual([
      expect.closeTo(0.6, 6),
      expect.closeTo(0.3, 6),
    ]);
    const again = new Sgd(params, { momentum: 0.9, weightDecay: uniformDecay(0.1) });
    expect(again.loadStateDict({ 'fc.weight': saved['momentum_buffer.fc.weight'] })).toBe(1);
    expect((await again.stateDict())['momentum_buffer.fc.weight'].data).toEqual(
      saved['momentum_buffer.fc.weight'].data,
    );
    // Another model's state: a clear error, not a silently cold optimizer.
    const wrong = {
      'momentum_buffer.fc.weight': { dtype: 'F32' as const, shape: [3], data: new Float32Array(3) },
    };
    expect(() => again.loadStateDict(wrong)).toThrow(/has shape \[3\] but the parameter has \[2\]/);
    sgd.dispose();
    again.dispose();
  });

  it("the detector's default policy decays conv and linear kernels only", () => {
    expect(DETECTOR_WEIGHT_DECAY).toEqual({ weight: 1e-4, bias: 0, norm: 0 });
  });
});

describe('schedules', () => {
  const state = initialScheduleState();
  const base = (warmup: ScheduleSpec['warmup']): ScheduleSpec => ({
    baseLr: 0.1,
    decay: { kind: 'steps', milestones: [10, 20], gamma: 0.1 },
    warmup,
  });

  it('linear warm-up (both roundings) from startFactor x base to base, then steps', () => {
    for (const form of ['lerp', 'detectron2'] as const) {
      const s = base({ kind: 'linear', iterations: 4, startFactor: 0.001, form });
      expect(learningRate(s, state, 0, 30)).toBeCloseTo(0.0001, 12);
      expect(learningRate(s, state, 2, 30)).toBeCloseTo(0.1 * (0.001 + 0.999 * 0.5), 12);
      expect(learningRate(s, state, 4, 30)).toBe(0.1);
      expect(learningRate(s, state, 15, 30)).toBeCloseTo(0.01, 12);
      expect(learningRate(s, state, 25, 30)).toBeCloseTo(0.001, 12);
    }
  });

  it("a detector checkpoint's schedule from before core/train gives the old trainer's rates, bit for bit", () => {
    const old = { baseLr: 0.02, warmupIters: 50, warmupFactor: 0.001, steps: [60, 80], gamma: 0.1 };
    const spec = storedDetectorSchedule(old);
    expect(spec).toBeDefined();
    // The old trainer's formula (detection/train/schedule.ts before core/train), verbatim.
    const oldRate = (it: number) => {
      let lr = old.baseLr;
      for (const step of old.steps) if (it >= step) lr *= old.gamma;
      if (it < old.warmupIters) {
        const alpha = it / old.warmupIters;
        lr *= old.warmupFactor * (1 - alpha) + alpha;
      }
      return lr;
    };
    for (let it = 0; it < 100; it++)
      expect(learningRate(spec!, state, it, 100), `iteration ${it}`).toBe(oldRate(it));
    // A schedule stored by today's trainer reads back as it is.
    expect(storedDetectorSchedule(spec)).toBe(spec);
  });

  it('constant warm-up holds startFactor x base, then the base rate', () => {
    const s = base({ kind: 'constant', iterations: 3, startFactor: 0.1 });
    expect([0, 1, 2, 3].map((i) => learningRate(s, state, i, 30))).toEqual([
      expect.closeTo(0.01, 12),
      expect.closeTo(0.01, 12),
      expect.closeTo(0.01, 12),
      0.1,
    ]);
  });
});

describe('metrics.jsonl', () => {
  it('truncateAfter drops the records a resumed run redoes, and a line cut short by a kill', () => {
    const log = new MetricsLog(join(tmp, 'trunc', 'metrics.jsonl'));
    for (const iteration of [1, 2, 3, 4]) log.write({ type: 'train', iteration });
    log.write({ type: 'note' });
    writeFileSync(log.path, `${readFileSync(log.path, 'utf8')}{"type":"train","iter`);
    log.truncateAfter(2);
    expect(readMetrics(log.path).map((r) => r.iteration)).toEqual([1, 2, undefined]);
  });

  it('skips a cut-short last line, but a bad line inside the file is an error naming it', () => {
    const path = join(tmp, 'bad.jsonl');
    writeFileSync(path, '{"type":"train","iteration":1}\n{"type":"tr\n');
    expect(readMetrics(path)).toHaveLength(1);
    writeFileSync(path, '{"type":"train","iteration":1}\nnot json\n{"type":"train","iteration":2}\n');
    expect(() => readMetrics(path)).toThrow(/bad\.jsonl:2: not a JSON line/);
    expect(() => readMetrics(join(tmp, 'none.jsonl'))).toThrow(/metrics file not found/);
  });

  it('tells detector runs from classifier runs', () => {
    expect(runKind([{ type: 'train', iteration: 1, total: 2.5 }])).toBe('detector');
    expect(runKind([{ type: 'train', iteration: 1, loss: 2.3, error: 0.9 }])).toBe('classifier');
    expect(runKind([])).toBeUndefined();
  });
});

describe('resume state', () => {
  const config = (name: string) =>
    JSON.parse(readFileSync(join(FIXTURE_DIR, name, 'config.json'), 'utf8')) as {
      training: Record<string, unknown>;
    };

  it("reads both tasks' checkpoints as written before core/train", () => {
    // Pretraining keeps it in training.state (+ settings); the detector in training itself.
    expect(readResumeState(config('pretrain-at-4').training, 'p')).toEqual({
      iteration: 4,
      totalIterations: 4,
      seconds: expect.any(Number),
      seed: 7,
    });
    expect(readResumeState(config('detector-at-3').training, 'd')).toEqual({
      iteration: 3,
      totalIterations: 3,
      seconds: expect.any(Number),
      seed: 5,
    });
  });

  it('no run at all is undefined; an incomplete one is an error naming the checkpoint', () => {
    expect(readResumeState(undefined, 'x')).toBeUndefined();
    expect(() => readResumeState({ iteration: 3 }, 'runs/x')).toThrow(
      'runs/x/config.json: the run state to resume is incomplete (no totalIterations, seed)',
    );
  });
});

/** A task whose loss is `losses[i]` at iteration i; records what the loop did. */
function fakeTask(losses: number[], opts: { slowMs?: number; onStep?: (i: number) => void } = {}) {
  const events: string[] = [];
  const task: TrainTask = {
    async compute(ctx) {
      if (opts.slowMs) await new Promise((r) => setTimeout(r, opts.slowMs));
      opts.onStep?.(ctx.iteration);
      const loss = losses[ctx.iteration] ?? 1;
      const step: ComputedStep = {
        loss,
        units: 1,
        show: { loss },
        apply: () => events.push(`apply ${ctx.iteration + 1}`),
        dispose: () => {},
      };
      return step;
    },
    diverged: (step, ctx) =>
      new ResdetError(`loss ${step.loss} at ${ctx.iteration + 1}, last saved ${ctx.lastSaved}`),
    evaluation: {
      due: (ctx) => ctx.iteration % 4 === 0,
      run: async (ctx) => void events.push(`eval ${ctx.iteration}`),
    },
    checkpoint: {
      due: (ctx) => ctx.iteration % 3 === 0,
      save: async (ctx) => void events.push(`save ${ctx.iteration}`),
    },
    nonFinite: () => [],
    nonFiniteError: () => new ResdetError('weights'),
  };
  return { task, events };
}

const progress = { label: 't', unit: 'it', unitsPerIteration: 1, silent: true };

describe('runTrainLoop', () => {
  it('runs to the total with evaluation and checkpoint hooks, and a final evaluation and save', async () => {
    const { task, events } = fakeTask([]);
    const r = await runTrainLoop({ task, startIteration: 0, totalIterations: 5, progress });
    expect(r).toMatchObject({ stopped: 'done', iteration: 5, total: 5 });
    expect(events).toEqual([
      'apply 1',
      'apply 2',
      'apply 3',
      'save 3',
      'apply 4',
      'eval 4',
      'apply 5',
      'eval 5',
      'save 5',
    ]);
  });

  it('stops after the iteration in progress when its AbortSignal fires, with a checkpoint', async () => {
    const controller = new AbortController();
    const { task, events } = fakeTask([], { onStep: (i) => i === 1 && controller.abort('SIGTERM') });
    const r = await runTrainLoop({
      task,
      startIteration: 0,
      totalIterations: 100,
      progress,
      signal: controller.signal,
    });
    expect(r).toMatchObject({ stopped: 'aborted', abortReason: 'SIGTERM', iteration: 2 });
    expect(events).toEqual(['apply 1', 'apply 2', 'save 2']);
  });

  it('a non-finite loss throws before the update is applied', async () => {
    const { task, events } = fakeTask([1, 1, 1, 1, Number.NaN]);
    await expect(runTrainLoop({ task, startIteration: 0, totalIterations: 10, progress })).rejects.toThrow(
      'loss NaN at 5, last saved 3',
    );
    expect(events.at(-1)).toBe('eval 4');
  });

  it('non-finite weights never replace the last checkpoint', async () => {
    const { task, events } = fakeTask([]);
    task.nonFinite = () => ['fc.weight'];
    await expect(runTrainLoop({ task, startIteration: 0, totalIterations: 10, progress })).rejects.toThrow(
      'weights',
    );
    expect(events.filter((e) => e.startsWith('save'))).toEqual([]);
  });

  it('stops at the time limit with a checkpoint', async () => {
    const { task, events } = fakeTask([], { slowMs: 30 });
    const r = await runTrainLoop({
      task,
      startIteration: 0,
      totalIterations: 1000,
      progress,
      maxMinutes: 0.2 / 60,
    });
    expect(r.stopped).toBe('time-limit');
    expect(r.iteration).toBeGreaterThan(0);
    expect(r.iteration).toBeLessThan(20);
    expect(events.at(-1)).toBe(`save ${r.iteration}`);
  });

  /** A run of 100,000 iterations fitted to `seconds`; returns the totals it adopted. */
  async function fitted(task: TrainTask, seconds: number, refitUntil: (total: number) => number) {
    const adopted: number[] = [];
    const r = await runTrainLoop({
      task,
      startIteration: 0,
      totalIterations: 100_000,
      progress,
      maxMinutes: seconds / 60,
      fitToTime: { maxTotal: 100_000, refitUntil, adopt: (t) => adopted.push(t) },
    });
    return { r, adopted };
  }

  it('fit-to-time shortens the run to what fits, and the task adopts the new total', async () => {
    const { r, adopted } = await fitted(fakeTask([], { slowMs: 20 }).task, 1, (t) => t / 2);
    // About 1 s at >= 20 ms an iteration: at most ~50 iterations fit, the first fit after 10.
    expect(adopted.length).toBeGreaterThan(0);
    expect(adopted[0]).toBeLessThan(60);
    expect(r.stopped).toBe('done');
    expect(r.total).toBe(adopted.at(-1));
    expect(r.iteration).toBe(r.total);
  });

  it('after an evaluation the fit shortens the run even past its first decay (an evaluation costs time)', async () => {
    const { task } = fakeTask([], { slowMs: 10 });
    task.evaluation = {
      due: (ctx) => ctx.iteration === 15,
      run: () => new Promise((r) => setTimeout(r, 400)),
      atEnd: false,
    };
    const { r, adopted } = await fitted(task, 1.5, () => 12);
    // Fitted at 10 (before the "decay" at 12), shortened again after the 0.4 s evaluation at 15.
    expect(adopted.length).toBe(2);
    expect(adopted[1]).toBeLessThan(adopted[0]);
    expect(r).toMatchObject({ stopped: 'done', total: adopted[1], iteration: adopted[1] });
  });
});
