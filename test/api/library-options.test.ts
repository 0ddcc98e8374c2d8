import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pretrain } from '../../backbone/pretrain/run.js';
import { initBackend } from '../../core/backend.js';
import { readCheckpointConfig } from '../../core/checkpoint.js';
import { ResdetError, UsageError } from '../../core/errors.js';
import { loadClassificationData } from '../../data/classification/spec.js';
import { FIXTURE_DIR, PRETRAIN_RUN } from '../fixtures/resume/runs.js';

// Library-only options: initBackend({ threads }) and pretrain on a dataset object.

const tmp = mkdtempSync(join(tmpdir(), 'resdet-library-options-'));

beforeAll(async () => {
  await initBackend({ backend: 'wasm', threads: 1, notice: () => {} });
});

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

function trainLosses(out: string): number[] {
  return readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; loss: number })
    .filter((r) => r.type === 'train')
    .map((r) => r.loss);
}

describe('initBackend({ threads })', () => {
  it('keeps the thread count wasm was loaded with, and refuses another', async () => {
    await expect(initBackend({ backend: 'wasm', threads: 1 })).resolves.toMatchObject({ backend: 'wasm' });
    const err = await initBackend({ backend: 'wasm', threads: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResdetError);
    expect((err as Error).message).toMatch(/already runs with 1 thread\(s\); it cannot change to 2/);
    await expect(initBackend({ threads: 0 })).rejects.toBeInstanceOf(UsageError);
    await expect(initBackend({ threads: 9 })).rejects.toThrow(/from 1 to 8, got 9/);
  });
});

describe('pretrain({ data })', () => {
  it('trains on a dataset object exactly as on its spec, and records the spec', async () => {
    const options = PRETRAIN_RUN.options(join(FIXTURE_DIR, 'fashion-mnist'));
    const bySpec = join(tmp, 'spec');
    await pretrain({ ...options, out: bySpec, iterations: 3 });
    const byObject = join(tmp, 'object');
    const data = loadClassificationData(options.data);
    const result = await pretrain({ ...options, data, out: byObject, iterations: 3 });
    expect(result.state.iteration).toBe(3);
    const losses = trainLosses(byObject);
    expect(losses).toHaveLength(3);
    expect(losses).toEqual(trainLosses(bySpec));
    const settings = readCheckpointConfig(byObject).training?.settings as { data: string };
    expect(settings.data).toBe(data.spec);
  });
});
