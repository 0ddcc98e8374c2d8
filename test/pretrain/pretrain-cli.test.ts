import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSafetensors, toFloat32 } from '../../core/safetensors.js';
import { repoRoot, runCli } from '../helpers/cli.js';

// Tiny nets on a small Fashion-MNIST subset, on wasm (the CPU backend's conv filter gradient is
// far too slow for a test).
const FMNIST = '/usr/share/datasets/fashion-mnist';
const haveData = existsSync(join(FMNIST, 'train-images-idx3-ubyte.gz'));

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'resdet-pretrain-'));
}

function spawnCli(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'tools', 'bin.ts'), ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.on('close', (code, signal) => resolve(code ?? (signal ? -1 : null))));
}

function checkpointIteration(dir: string): number {
  const path = join(dir, 'config.json');
  if (!existsSync(path)) return -1;
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as { training: { state: { iteration: number } } }).training
      .state.iteration;
  } catch {
    return -1;
  }
}

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}

function weights(dir: string): Map<string, Float32Array> {
  const f = readSafetensors(join(dir, 'weights.safetensors'));
  return new Map(f.names().map((n) => [n, toFloat32(f.tensor(n))]));
}

function trainRecords(dir: string): number[] {
  return readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; iteration: number })
    .filter((r) => r.type === 'train')
    .map((r) => r.iteration);
}

const common = ['--backend', 'wasm', 'pretrain', '--data', `fashion-mnist:${FMNIST}`, '--arch', 'resnet8'];

describe.skipIf(!haveData)('resdet pretrain (tiny runs)', () => {
  it('learns: held-out accuracy well above chance after a few epochs on 1000 images', async () => {
    const out = join(tmp(), 'run');
    const args = [
      ...common,
      '--width',
      '8',
      '--out',
      out,
      '--epochs',
      '3',
      '--batch-size',
      '32',
      '--lr',
      '0.1',
    ];
    const r = await runCli(
      [...args, '--subset', '1000', '--test-subset', '400', '--schedule', 'cosine', '--json'],
      {
        timeoutMs: 110_000,
      },
    );
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as { testTop1Error: number; iteration: number; stopped: string };
    expect(summary.stopped).toBe('done');
    expect(summary.iteration).toBe(3 * 31);
    // Chance is 90% error; a net that learned nothing stays there.
    expect(summary.testTop1Error).toBeLessThan(0.55);
    // The checkpoint evaluates to the same number through `resdet evaluate`.
    const ev = await runCli(['--backend', 'wasm', 'evaluate', '--model', out, '--limit', '200', '--json']);
    expect(ev.code, ev.stderr).toBe(0);
    const e = JSON.parse(ev.stdout) as { top1Error: number; top5Error: number; images: number };
    expect(e.images).toBe(200);
    expect(e.top1Error).toBeLessThan(0.6);
    expect(e.top5Error).toBeLessThan(e.top1Error);
    const ten = await runCli([
      '--backend',
      'wasm',
      'evaluate',
      '--model',
      out,
      '--limit',
      '50',
      '--ten-crop',
      '--json',
    ]);
    expect(ten.code, ten.stderr).toBe(0);
    const t = JSON.parse(ten.stdout) as { top1Error: number; images: number; tenCrop: boolean };
    expect([t.images, t.tenCrop]).toEqual([50, true]);
    expect(t.top1Error).toBeLessThan(0.7);
    const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8');
    expect(metrics).toContain('"type":"eval"');
  }, 150_000);

  it('a run killed (SIGTERM, then SIGKILL) and resumed ends with the same weights as an uninterrupted one', async () => {
    const root = tmp();
    const run = (out: string) => [
      ...common,
      '--width',
      '4',
      '--out',
      out,
      '--iterations',
      '80',
      '--batch-size',
      '16',
      '--subset',
      '256',
      '--test-subset',
      '32',
      '--checkpoint-every',
      '4',
    ];
    const a = join(root, 'a');
    const b = join(root, 'b');
    const straight = await runCli(run(a), { timeoutMs: 100_000 });
    expect(straight.code, straight.stderr).toBe(0);

    // SIGTERM: the run saves a checkpoint at the iteration it is on and exits with 143.
    const first = spawnCli(run(b));
    await waitFor(() => checkpointIteration(b) >= 8, 60_000);
    first.kill('SIGTERM');
    expect(await exited(first)).toBe(143);
    const atTerm = checkpointIteration(b);
    expect(atTerm).toBeGreaterThanOrEqual(4);
    expect(atTerm).toBeLessThan(80);

    // SIGKILL: nothing is saved at the kill; the resumed run goes back to the last checkpoint.
    const second = spawnCli([...run(b), '--resume']);
    await waitFor(() => checkpointIteration(b) >= atTerm + 4, 60_000);
    second.kill('SIGKILL');
    await exited(second);
    const atKill = checkpointIteration(b);
    expect(atKill).toBeGreaterThan(atTerm);

    const last = await runCli([...run(b), '--resume'], { timeoutMs: 100_000 });
    expect(last.code, last.stderr).toBe(0);
    expect(last.stderr).toContain(`resuming resnet8 at iteration ${atKill}/80`);
    expect(checkpointIteration(b)).toBe(80);

    // Same data order, augmentation, schedule and momentum: the same weights (wasm is deterministic).
    const wa = weights(a);
    const wb = weights(b);
    expect([...wb.keys()].sort()).toEqual([...wa.keys()].sort());
    for (const [name, va] of wa) {
      const vb = wb.get(name)!;
      let maxDiff = 0;
      for (let i = 0; i < va.length; i++) maxDiff = Math.max(maxDiff, Math.abs(va[i] - vb[i]));
      expect(maxDiff, name).toBeLessThan(1e-6);
    }
    // metrics.jsonl continues without repeating the iterations redone after the kill.
    const its = trainRecords(b);
    expect(its).toEqual([...new Set(its)].sort((x, y) => x - y));
    expect(its.at(-1)).toBe(80);
    const sgd = readSafetensors(join(b, 'optimizer.safetensors'));
    expect(sgd.names().some((n) => n.startsWith('momentum_buffer.'))).toBe(true);
  }, 200_000);

  it('--fit-to-time shortens the run to --max-minutes and decays its learning rate before the end', async () => {
    const out = join(tmp(), 'fit');
    const settings = '--width 4 --iterations 100000 --batch-size 16 --subset 256 --test-subset 32';
    const r = await runCli(
      [...common, '--out', out, ...settings.split(' '), '--max-minutes', '0.3', '--fit-to-time', '--json'],
      { timeoutMs: 100_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as { stopped: string; iteration: number; totalIterations: number };
    expect(summary.stopped).toBe('done');
    expect(summary.iteration).toBe(summary.totalIterations);
    expect(summary.iteration).toBeLessThan(100_000);
    const lrs = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; lr?: number })
      .filter((x) => x.type === 'train')
      .map((x) => x.lr as number);
    // The CIFAR recipe's steps (x0.1 at 1/2 and 3/4 of the fitted run) from 0.1 x 16/128.
    expect(lrs[0]).toBeCloseTo(0.0125, 10);
    expect(lrs.at(-1)).toBeCloseTo(0.000125, 10);
    const saved = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as {
      training: { settings: { totalIterations: number } };
    };
    expect(saved.training.settings.totalIterations).toBe(summary.iteration);
  }, 120_000);

  it('refuses to overwrite a run without --resume and reports usage errors with exit 2', async () => {
    const out = join(tmp(), 'run');
    const r = await runCli([...common, '--out', out, '--resume']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/nothing to resume/);
    const u = await runCli([...common, '--out', out, '--epochs', '1', '--iterations', '3']);
    expect(u.code).toBe(2);
    const d = await runCli(['pretrain', '--data', 'mnist:/x', '--arch', 'resnet8', '--out', out]);
    expect(d.code).toBe(2);
  }, 60_000);

  it('CIFAR-10 (binary batches): the recipe holds out a validation split and reports val and test error', async () => {
    const root = tmp();
    const dir = join(root, 'cifar-10-batches-bin');
    mkdirSync(dir);
    const rng = (i: number) => (i * 2654435761) >>> 24;
    const batch = (n: number, off: number) => {
      const b = Buffer.alloc(n * 3073);
      for (let r = 0; r < n; r++) {
        b[r * 3073] = (r + off) % 10;
        for (let p = 1; p < 3073; p++) b[r * 3073 + p] = rng(r * 3073 + p + off);
      }
      return b;
    };
    for (let k = 1; k <= 5; k++) writeFileSync(join(dir, `data_batch_${k}.bin`), batch(24, k));
    writeFileSync(join(dir, 'test_batch.bin'), batch(16, 9));
    const out = join(root, 'run');
    // The recipe's 45k/5k split does not fit 120 images: a usage error that says so.
    const tooSmall = await runCli(
      ['--backend', 'wasm', 'pretrain', '--data', `cifar10:${root}`, '--arch', 'resnet8', '--out', out],
      { timeoutMs: 60_000 },
    );
    expect(tooSmall.code).toBe(2);
    expect(tooSmall.stderr).toMatch(/--val-split 5000 leaves no training images \(120 in all\)/);
    const r = await runCli(
      [
        '--backend',
        'wasm',
        'pretrain',
        '--data',
        `cifar10:${root}`,
        '--arch',
        'resnet8',
        '--width',
        '4',
        '--out',
        `${out}2`,
        '--epochs',
        '1',
        '--batch-size',
        '20',
        '--val-split',
        '20',
        '--json',
      ],
      { timeoutMs: 60_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    const cfg = JSON.parse(readFileSync(join(`${out}2`, 'config.json'), 'utf8')) as {
      training: { settings: { valSplit: number; recipe: string; totalIterations: number } };
      preprocessing: { inputSize: number };
    };
    // 120 training images - 20 held out = 100 = 5 batches of 20.
    expect(cfg.training.settings).toMatchObject({ valSplit: 20, recipe: 'cifar', totalIterations: 5 });
    expect(cfg.preprocessing.inputSize).toBe(32);
    const evals = readFileSync(join(`${out}2`, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; split?: string; images?: number })
      .filter((x) => x.type === 'eval');
    expect(evals.map((e) => [e.split, e.images])).toEqual([
      ['val', 20],
      ['test', 16],
    ]);
  }, 120_000);
});
