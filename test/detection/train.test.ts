import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../core/backend.js';
import { readCheckpointConfig } from '../../core/checkpoint.js';
import { ResdetError } from '../../core/errors.js';
import { registerTrainingKernels } from '../../core/kernels/index.js';
import { readSafetensors, toFloat32 } from '../../core/safetensors.js';
import { writeSynthSet } from '../../data/synth/write-set.js';
import { type TrainDetectorOptions, trainDetector } from '../../detection/index.js';

// Training on a tiny synthetic shapes set (64-px images, ResNet-18 with 8 channels in its first
// stage) on the wasm backend with resdet's training kernels.

const tmp = mkdtempSync(join(tmpdir(), 'resdet-det-train-'));
const data = join(tmp, 'shapes');

function options(out: string, extra: Partial<TrainDetectorOptions> = {}): TrainDetectorOptions {
  return {
    data: `voc:${data}:train`,
    out,
    backbone: 'resnet18-w8',
    iterations: 6,
    minSize: 64,
    maxSize: 64,
    anchorSizes: [16, 32, 64],
    preset: 'cpu',
    imagesPerBatch: 1,
    lr: 0.02,
    warmupIters: 0,
    steps: [1000],
    roiHeads: { batchSizePerImage: 16, poolSize: 4 },
    silent: true,
    log: () => {},
    ...extra,
  };
}

function totals(out: string): number[] {
  return readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; total: number })
    .filter((r) => r.type === 'train')
    .map((r) => r.total);
}

beforeAll(async () => {
  await registerTrainingKernels();
  await initBackend('wasm');
  await writeSynthSet({ kind: 'shapes', out: data, train: 6, test: 2, size: 64, seed: 3 });
});

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('trainDetector', () => {
  it('drives the loss down on a tiny set', async () => {
    const out = join(tmp, 'overfit');
    const result = await trainDetector(options(out, { iterations: 40, flip: false }));
    expect(result.iteration).toBe(40);
    const t = totals(out);
    expect(t.length).toBe(40);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const first = mean(t.slice(0, 6));
    const last = mean(t.slice(-6));
    // Tolerance: the last iterations' mean loss at most 70% of the first ones'.
    expect(last, `first ${first}, last ${last}`).toBeLessThan(0.7 * first);
    expect(existsSync(join(out, 'loss.png'))).toBe(true);
    expect(readCheckpointConfig(out).training?.iteration).toBe(40);
  });

  it('resumes exactly: 3 + 3 iterations give the same weights as 6', async () => {
    const straight = join(tmp, 'straight');
    await trainDetector(options(straight));
    const split = join(tmp, 'split');
    await trainDetector(options(split, { iterations: 3 }));
    // As a run of 6 stopped at 3 (by a signal or --max-minutes) leaves it: resuming needs neither
    // the backbone nor the total, both are in the checkpoint.
    const configPath = join(split, 'config.json');
    const config = JSON.parse(readFileSync(configPath, 'utf8'));
    config.training.iterations = 6;
    writeFileSync(configPath, JSON.stringify(config));
    const resumed = await trainDetector(
      options(split, { resume: true, backbone: undefined, iterations: undefined }),
    );
    expect(resumed.iteration).toBe(6);
    expect(totals(split)).toEqual(totals(straight));
    const a = readSafetensors(join(straight, 'weights.safetensors'));
    const b = readSafetensors(join(split, 'weights.safetensors'));
    for (const name of a.names()) {
      expect(Array.from(toFloat32(b.tensor(name))), name).toEqual(Array.from(toFloat32(a.tensor(name))));
    }
  });

  it('refuses to overwrite a run without --resume or --force', async () => {
    await expect(trainDetector(options(join(tmp, 'straight')))).rejects.toThrow(/already holds a checkpoint/);
  });

  it('refuses a set whose objects were all skipped, naming the first problem', async () => {
    const root = join(tmp, 'renamed');
    await writeSynthSet({ kind: 'shapes', out: root, train: 2, test: 1, size: 64, seed: 4 });
    writeFileSync(join(root, 'classes.txt'), 'cat\ndog\n');
    const logged: string[] = [];
    await expect(
      trainDetector(
        options(join(tmp, 'renamed-run'), { data: `voc:${root}:train`, log: (l) => logged.push(l) }),
      ),
    ).rejects.toThrow(/no objects to train on \(all \d+ were skipped as bad data; first: .*unknown class/);
    expect(logged.join('\n')).toMatch(/skipped 0 images and \d+ objects with bad data \(first: /);
    expect(existsSync(join(tmp, 'renamed-run', 'weights.safetensors'))).toBe(false);
  });

  it('an image that cannot be decoded mid-run is skipped, not the end of the run', async () => {
    const root = join(tmp, 'one-corrupt');
    await writeSynthSet({ kind: 'shapes', out: root, train: 3, test: 1, size: 64, seed: 5 });
    // Opening only checks that the file exists; the damage shows when the loader decodes it.
    writeFileSync(join(root, 'JPEGImages', '000002.jpg'), 'not a jpeg');
    const result = await trainDetector(
      options(join(tmp, 'one-corrupt-run'), { data: `voc:${root}:train`, iterations: 4 }),
    );
    expect(result.iteration).toBe(4);
    expect(totals(join(tmp, 'one-corrupt-run')).every(Number.isFinite)).toBe(true);
  });

  it('stops on a non-finite loss and keeps the last good checkpoint', async () => {
    const out = join(tmp, 'diverge');
    let error: unknown;
    try {
      await trainDetector(options(out, { iterations: 30, lr: 1e12, checkpointEvery: 1 }));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ResdetError);
    // Either the loss or (checked before each save) the parameters went non-finite.
    const message = (error as Error).message;
    expect(message).toMatch(
      /training diverged: (the loss is (NaN|-?Infinity)|parameters became non-finite) at iteration \d+/,
    );
    const failedAt = Number(/at iteration (\d+)/.exec(message)?.[1]);
    const saved = readCheckpointConfig(out).training?.iteration as number;
    expect(saved).toBe(failedAt - 1);
    const weights = readSafetensors(join(out, 'weights.safetensors'));
    for (const name of weights.names()) {
      if (weights.info(name).dtype === 'F32')
        expect(toFloat32(weights.tensor(name)).every(Number.isFinite), name).toBe(true);
    }
  });
});
