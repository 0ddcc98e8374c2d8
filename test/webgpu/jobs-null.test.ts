import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { JOBS, type JobResult } from '../jobs/jobs.js';
import { spawnDawnChild } from './spawn-dawn.js';

const RUNNER = fileURLToPath(new URL('../jobs/run-jobs.ts', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'resdet-jobs-null-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("every job through tfjs-backend-webgpu on Dawn's null adapter (validated, not executed)", () => {
  it(`runs ${JOBS.join(', ')} with resdet's kernels: no WebGPU error, no synchronous read`, () => {
    const work = join(tmp, 'jobs');
    // In its own process (dawn.node aborts inside vitest's workers); restarted if Dawn crashes.
    const run = spawnDawnChild([RUNNER, work], {
      timeoutMs: 300_000,
      env: {
        ...process.env,
        RESDET_BACKEND: 'webgpu',
        RESDET_WEBGPU_ADAPTER: 'null',
        RESDET_WEBGPU_KERNELS: '1',
      },
    });
    const stderr = [...run.attempts, run.stderr].join('\n');
    const lines = readFileSync(join(work, 'jobs.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as JobResult & { webgpuErrors?: number; messages?: string[] });
    const jobs = lines.filter((l) => l.job !== undefined);
    expect(jobs.map((r) => r.job)).toEqual([...JOBS]);
    expect(
      jobs.filter((r) => r.code !== 0).map((r) => `${r.job}: ${r.stderr}`),
      stderr.slice(-3000),
    ).toEqual([]);
    const errors = lines.find((l) => l.webgpuErrors !== undefined);
    expect(errors, 'the runner reports the WebGPU error count').toBeDefined();
    expect(errors?.messages).toEqual([]);
    expect(errors?.webgpuErrors).toBe(0);
    // Dawn prints shader and pipeline errors too; tfjs's sync read in Node dies on OffscreenCanvas.
    expect(stderr).not.toMatch(/Error while parsing WGSL|\[Invalid |OffscreenCanvas/);
    expect(run.status).toBe(0);
  }, 320_000);
});
