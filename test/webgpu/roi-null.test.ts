import { describe, expect, it } from 'vitest';
import { spawnDawnChild } from './spawn-dawn.js';

describe("RoI kernels through tfjs-backend-webgpu on Dawn's null adapter", () => {
  it('every RoIAlign / RoIPool forward and backward pipeline validates (bench/gpu/roi-check.ts)', () => {
    const run = spawnDawnChild(['bench/gpu/roi-check.ts', '--backend', 'webgpu-null', '--small', '--json'], {
      timeoutMs: 90_000,
    });
    const lines = run.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const stderr = [...run.attempts, run.stderr].join('\n');
    // Both conventions, fixed and adaptive sampling, and RoIPool: six cases, none with a WebGPU error.
    expect(
      lines.find((l) => l.summary),
      stderr.slice(-2000),
    ).toMatchObject({ ok: true, cases: 6, failures: [] });
    expect(lines.filter((l) => l.what === 'roi').map((l) => l.op)).toEqual([
      'align',
      'align',
      'align',
      'align',
      'pool',
      'pool',
    ]);
    expect(stderr).not.toMatch(/Error while parsing WGSL|\[Invalid /);
    expect(run.status).toBe(0);
  });
});
