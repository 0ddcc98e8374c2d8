import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { curvesChart, readRunCurves } from '../../backbone/pretrain/curves.js';
import { readSafetensors, toFloat32 } from '../../core/safetensors.js';
import { runCli } from '../helpers/cli.js';

const FMNIST = '/usr/share/datasets/fashion-mnist';
const haveData = existsSync(join(FMNIST, 'train-images-idx3-ubyte.gz'));
const tmp = () => mkdtempSync(join(tmpdir(), 'resdet-exp-'));

describe('curves from metrics.jsonl', () => {
  it('reads training and test error, and plots them as a PNG', async () => {
    const dir = join(tmp(), 'run1');
    const lines = [
      { type: 'train', epoch: 0.5, iteration: 10, error: 0.8 },
      { type: 'train', epoch: 1, iteration: 20, error: 0.5 },
      { type: 'epoch', epoch: 1, iteration: 20, error: 0.65 },
      { type: 'eval', split: 'test', epoch: 0, iteration: 20, top1Error: 0.45 },
      { type: 'eval', split: 'val', epoch: 0, iteration: 20, top1Error: 0.47 },
    ];
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir);
    writeFileSync(join(dir, 'metrics.jsonl'), `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    const c = readRunCurves(join(dir, 'metrics.jsonl'));
    expect(c.name).toBe('run1');
    expect(c.train).toEqual([
      [10, 80],
      [20, 50],
    ]);
    expect(c.test).toEqual([[20, 45]]);
    expect(c.val).toEqual([[20, 47]]);
    expect(c.itersPerEpoch).toBe(20);
    // The run directory itself stands for its metrics.jsonl (it failed with a bare EISDIR).
    expect(readRunCurves(dir)).toEqual(c);
    const spec = curvesChart([c], { epochs: true });
    expect(spec.series.map((s) => [s.name, s.dashed ?? false])).toEqual([
      ['run1 train', true],
      ['run1 test', false],
    ]);
    expect(spec.series[0].points[1]).toEqual([1, 50]);
    const png = join(dir, 'curves.png');
    const r = await runCli(['plot', join(dir, 'metrics.jsonl'), '--out', png]);
    expect(r.code, r.stderr).toBe(0);
    const meta = await sharp(readFileSync(png)).metadata();
    expect(meta.format).toBe('png');
    expect(meta.width).toBeGreaterThan(300);
    const bad = await runCli(['plot', join(dir, 'nope.jsonl'), '--out', png]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/nope\.jsonl: metrics file not found/);
  }, 30_000);
});

describe.skipIf(!haveData)('experiment and failure handling', () => {
  it('degradation: trains plain and residual nets of each depth and draws both panels', async () => {
    const out = join(tmp(), 'deg');
    const r = await runCli(
      [
        '--backend',
        'wasm',
        'experiment',
        'degradation',
        '--data',
        'fashion-mnist',
        '--depths',
        '8,14',
        '--iterations',
        '6',
        '--batch-size',
        '16',
        '--subset',
        '128',
        '--test-subset',
        '32',
        '--width',
        '4',
        '--out',
        out,
        '--json',
      ],
      { timeoutMs: 100_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout) as { runs: { arch: string; iteration: number }[]; plot: string };
    expect(res.runs.map((x) => x.arch)).toEqual(['plain8', 'resnet8', 'plain14', 'resnet14']);
    expect(res.runs.every((x) => x.iteration === 6)).toBe(true);
    // The plain nets really have no shortcuts: resnet14's option-A blocks and plain14 differ only there,
    // so their parameter names match but the nets are separate runs with their own checkpoints.
    for (const arch of ['plain14', 'resnet14'])
      expect(existsSync(join(out, arch, 'weights.safetensors'))).toBe(true);
    expect((await sharp(readFileSync(res.plot)).metadata()).format).toBe('png');
    const bad = await runCli(['experiment', 'degradation', '--data', 'fashion-mnist', '--depths', '21']);
    expect(bad.code).toBe(2);
  }, 120_000);

  it('a NaN loss stops the run with a clear message and keeps the last good checkpoint', async () => {
    const out = join(tmp(), 'nan');
    const r = await runCli(
      [
        '--backend',
        'wasm',
        'pretrain',
        '--data',
        'fashion-mnist',
        '--arch',
        'resnet8',
        '--width',
        '4',
        '--out',
        out,
        '--iterations',
        '40',
        '--batch-size',
        '16',
        '--subset',
        '256',
        '--test-subset',
        '32',
        '--lr',
        '1e6',
        '--checkpoint-every',
        '1',
      ],
      { timeoutMs: 60_000 },
    );
    expect(r.code).toBe(1);
    // Either the loss or, first, a BN statistic overflows; both name the iteration and the checkpoint kept.
    const m =
      /(training loss became (NaN|Infinity)|holds NaN or infinite values) at iteration (\d+) .* last good checkpoint in .* is from iteration (\d+)/.exec(
        r.stderr,
      );
    expect(m, r.stderr).not.toBeNull();
    const [failedAt, goodAt] = [Number(m![3]), Number(m![4])];
    expect(goodAt).toBeLessThan(failedAt);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as {
      training: { state: { iteration: number } };
    };
    expect(config.training.state.iteration).toBe(goodAt);
    const w = readSafetensors(join(out, 'weights.safetensors'));
    for (const name of w.names()) expect(toFloat32(w.tensor(name)).every(Number.isFinite), name).toBe(true);
  }, 60_000);
});
