import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../core/backend.js';
import { NOSYNC_BACKEND, SyncReadError } from '../../core/nosync-backend.js';
import { roiAlign } from '../../detection/ops/roi-align.js';
import { JOBS, type JobResult } from './jobs.js';

const RUNNER = fileURLToPath(new URL('./run-jobs.ts', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'resdet-nosync-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe(`the ${NOSYNC_BACKEND} backend`, () => {
  it('throws on every synchronous read, answers awaited ones, and computes what cpu computes', async () => {
    await initBackend('nosync-cpu');
    expect(tf.getBackend()).toBe(NOSYNC_BACKEND);
    const x = tf.tensor4d(
      Array.from({ length: 2 * 6 * 5 * 3 }, (_, i) => Math.sin(i)),
      [2, 6, 5, 3],
    );
    const y = tf.conv2d(x, tf.ones([3, 3, 3, 4]) as tf.Tensor4D, 1, 'same');
    expect(() => y.dataSync()).toThrow(SyncReadError);
    expect(() => y.arraySync()).toThrow(/synchronous read/);
    expect(() => y.bufferSync()).toThrow(SyncReadError);
    const onNoSync = Array.from(await y.data());
    // A kernel reading its inputs (the RoI kernel, a reduction) is not a synchronous read.
    const pooled = await roiAlign(x, Float32Array.from([1, 0, 0, 4, 5]), 2).data();
    await initBackend('cpu');
    const xc = tf.tensor4d(Array.from(await x.data()), [2, 6, 5, 3]);
    expect(onNoSync).toEqual(
      Array.from(tf.conv2d(xc, tf.ones([3, 3, 3, 4]) as tf.Tensor4D, 1, 'same').dataSync()),
    );
    expect(Array.from(pooled)).toEqual(
      Array.from(roiAlign(xc, Float32Array.from([1, 0, 0, 4, 5]), 2).dataSync()),
    );
  });
});

describe(`every job on ${NOSYNC_BACKEND} (synchronous reads throw)`, () => {
  it(`runs ${JOBS.join(', ')} to completion on tiny models`, () => {
    const work = join(tmp, 'jobs');
    const run = spawnSync(process.execPath, ['--import', 'tsx', RUNNER, work], {
      encoding: 'utf8',
      timeout: 300_000,
      env: { ...process.env, RESDET_BACKEND: NOSYNC_BACKEND },
    });
    const results = readFileSync(join(work, 'jobs.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as JobResult);
    expect(results.map((r) => r.job)).toEqual([...JOBS]);
    const failed = results.filter((r) => r.code !== 0).map((r) => `${r.job}: ${r.stderr}`);
    expect(failed, run.stderr.slice(-3000)).toEqual([]);
    expect(run.stderr).not.toContain('SyncReadError');
    expect(run.status).toBe(0);
  }, 320_000);
});
