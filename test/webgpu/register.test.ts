import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../core/backend.js';
import {
  activeWebgpuKernels,
  registerWebgpuKernels,
  webgpuKernelsFromEnv,
} from '../../core/webgpu/register.js';
import { spawnDawnChild } from './spawn-dawn.js';

/**
 * Runs a bench entry from sources in its own process (dawn.node aborts inside vitest workers);
 * spawnDawnChild starts it again when dawn.node aborts or hangs, and returns an exit code as is.
 */
function runEntry(args: string[]): {
  status: number | null;
  lines: Record<string, unknown>[];
  stderr: string;
} {
  const run = spawnDawnChild(args, {
    timeoutMs: 90_000,
    env: { ...process.env, RESDET_WEBGPU_KERNELS: '' },
  });
  const lines = run.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { status: run.status, lines, stderr: [...run.attempts, run.stderr].join('\n') };
}

describe('opt-in registration', () => {
  it('reads RESDET_WEBGPU_KERNELS strictly', () => {
    expect(webgpuKernelsFromEnv(undefined)).toEqual([]);
    expect(webgpuKernelsFromEnv('0')).toEqual([]);
    expect(webgpuKernelsFromEnv('1')).toEqual(['filter', 'input']);
    expect(webgpuKernelsFromEnv('all')).toEqual(['filter', 'input']);
    expect(webgpuKernelsFromEnv(' filter ')).toEqual(['filter']);
    expect(() => webgpuKernelsFromEnv('filter,dw')).toThrow(/unknown kernel "dw"/);
  });

  it('is off by default and refuses to register before the webgpu backend exists', async () => {
    await initBackend('cpu');
    expect(activeWebgpuKernels()).toEqual([]);
    expect(tf.getKernel('Conv2DBackpropFilter', 'webgpu')).toBeUndefined();
    expect(() => registerWebgpuKernels()).toThrow(/load the webgpu backend first/);
    expect(tf.getKernel('Conv2DBackpropFilter', 'webgpu')).toBeUndefined();
    expect(activeWebgpuKernels()).toEqual([]);
  });
});

describe("through tfjs-backend-webgpu on Dawn's null adapter (compiled and validated, not executed)", () => {
  it('every ResNet-50 conv shape: both gradients run our kernels without WebGPU errors', () => {
    const { status, lines, stderr } = runEntry([
      'bench/gpu/kernel-check.ts',
      '--backend',
      'webgpu-null',
      '--batch',
      '1',
      '--input',
      '32',
      '--json',
    ]);
    const summary = lines.find((l) => l.summary);
    expect(summary, stderr.slice(-2000)).toMatchObject({ ok: true, cases: 23 });
    expect(status).toBe(0);
    const ours = lines.filter((l) => l.kernels === 'resdet');
    expect(ours).toHaveLength(46);
    expect(ours.every((l) => l.ok === true)).toBe(true);
  });

  it('a ResNet-50 training step (bench suite) runs through them', () => {
    const { status, lines, stderr } = runEntry([
      'bench/gpu/suite.ts',
      '--backend',
      'webgpu-null',
      '--kernels',
      'resdet',
      '--input',
      '32',
      '--width',
      '4',
      '--forward-batches',
      '1',
      '--train-batches',
      '1',
      '--iterations',
      '1',
      '--warmup',
      '0',
      '--json',
    ]);
    expect(status, stderr.slice(-2000)).toBe(0);
    expect(lines.map((l) => l.case)).toEqual(['forward', 'train']);
    // Every conv of plain ResNet-50 has a filter gradient; all but the stem an input gradient.
    expect(stderr).toMatch(/resdet kernels ran: filter 53, input 52, fallback 0/);
  });
});

describe('bench suite harness on wasm', () => {
  it('prints one JSON record per case with the agreed fields', () => {
    const { status, lines, stderr } = runEntry([
      'bench/gpu/suite.ts',
      '--backend',
      'wasm',
      '--input',
      '32',
      '--width',
      '4',
      '--forward-batches',
      '1,2',
      '--train-batches',
      '2',
      '--iterations',
      '1',
      '--warmup',
      '0',
      '--json',
    ]);
    expect(status, stderr.slice(-2000)).toBe(0);
    expect(lines).toHaveLength(3);
    for (const l of lines) {
      expect(Object.keys(l)).toEqual(
        expect.arrayContaining(['arch', 'input', 'batch', 'backend', 'img_per_s', 'ms_per_iter']),
      );
      expect(l.backend).toBe('wasm');
      expect(l.img_per_s as number).toBeGreaterThan(0);
      // ms_per_iter is printed to 0.01 ms, so on sub-millisecond-scale iterations the throughput it
      // implies differs from img_per_s by rounding alone: compare within 1 % rather than absolutely.
      const implied = ((l.batch as number) * 1000) / (l.ms_per_iter as number);
      expect(Math.abs(implied - (l.img_per_s as number)) / (l.img_per_s as number)).toBeLessThan(0.01);
    }
    expect(lines.map((l) => [l.case, l.batch])).toEqual([
      ['forward', 1],
      ['forward', 2],
      ['train', 2],
    ]);
  });
});
