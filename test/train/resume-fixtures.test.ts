import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pretrain } from '../../backbone/pretrain/run.js';
import { initBackend } from '../../core/backend.js';
import { trainDetector } from '../../detection/index.js';
import {
  type Continuation,
  continuation,
  DETECTOR_RUN,
  FIXTURE_DIR,
  PRETRAIN_RUN,
} from '../fixtures/resume/runs.js';

// Checkpoints written mid-run by the trainers as they were before core/train/ (see
// test/fixtures/resume/generate.ts), resumed with today's code: the continuation's training
// records, final weights and momentum buffers must be bit-identical to what the old code produced
// (wasm backend, one thread: deterministic).

const expected = JSON.parse(readFileSync(join(FIXTURE_DIR, 'expected.json'), 'utf8')) as {
  pretrain: Continuation;
  detector: Continuation;
};
const tmp = mkdtempSync(join(tmpdir(), 'resdet-resume-fixtures-'));

beforeAll(async () => {
  await initBackend('wasm');
});

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('old checkpoints resume bit-identically', () => {
  it('pretraining (resnet8 on Fashion-MNIST, stopped at iteration 4 of 10)', async () => {
    const out = join(tmp, 'pretrain');
    cpSync(join(FIXTURE_DIR, 'pretrain-at-4'), out, { recursive: true });
    const result = await pretrain({
      ...PRETRAIN_RUN.options(join(FIXTURE_DIR, 'fashion-mnist')),
      out,
      resume: true,
      iterations: PRETRAIN_RUN.total,
    });
    expect(result.state.iteration).toBe(PRETRAIN_RUN.total);
    expect(continuation(out, PRETRAIN_RUN.stopAt)).toEqual(expected.pretrain);
  });

  it('detector training (resnet18-w4 Faster R-CNN on shapes, stopped at 3 of 7), after a kill left stale records', async () => {
    const out = join(tmp, 'detector');
    cpSync(join(FIXTURE_DIR, 'detector-at-3'), out, { recursive: true });
    // What a kill after the checkpoint leaves: records of iterations the resumed run does again.
    for (const iteration of [4, 5]) {
      appendFileSync(
        join(out, 'metrics.jsonl'),
        `${JSON.stringify({ type: 'train', iteration, total: 9 })}\n`,
      );
    }
    appendFileSync(join(out, 'metrics.jsonl'), '{"type":"train","itera');
    const result = await trainDetector({
      ...DETECTOR_RUN.options(join(FIXTURE_DIR, 'shapes')),
      out,
      backbone: undefined,
      resume: true,
      iterations: DETECTOR_RUN.total,
    });
    expect(result.iteration).toBe(DETECTOR_RUN.total);
    expect(continuation(out, DETECTOR_RUN.stopAt)).toEqual(expected.detector);
    const iterations = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { iteration: number }).iteration);
    expect(iterations).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });
});
