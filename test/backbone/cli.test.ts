import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { fromFloat32, readSafetensors, type SafeTensor, writeSafetensors } from '../../core/safetensors.js';
import { main } from '../../tools/cli.js';
import { type CliResult, runCli } from '../helpers/cli.js';

/** import / export / init / classify through the CLI, on the tiny torchvision fixture. */
const fixtures = join(import.meta.dirname, '..', 'fixtures', 'torchvision');
const weights = join(fixtures, 'tiny_resnet_basic1111_c10_f16.safetensors');
const png = join(fixtures, 'tiny_input_64.png');
const expected = JSON.parse(readFileSync(join(fixtures, 'tiny_resnet_expected.json'), 'utf8')).images
  .img0 as {
  logits: number[];
  abs_tolerance: number;
};
const tmp = mkdtempSync(join(tmpdir(), 'resdet-backbone-cli-'));
const env = { RESDET_BACKEND: 'wasm' };

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * The CLI in this process (spawning a fresh Node per command costs seconds on a busy machine);
 * the first test also spawns the real executable once.
 */
async function cli(args: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  const log = vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => {
    stdout += `${parts.join(' ')}\n`;
  });
  try {
    const code = await main(['--backend', 'wasm', ...args]);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    log.mockRestore();
  }
}

function sameTensors(a: string, b: string): void {
  const fa = readSafetensors(a);
  const fb = readSafetensors(b);
  expect(fb.names().sort()).toEqual(fa.names().sort());
  for (const name of fa.names()) {
    const [x, y] = [fa.info(name), fb.info(name)];
    expect([y.dtype, y.shape], name).toEqual([x.dtype, x.shape]);
    expect(Buffer.compare(Buffer.from(fa.raw(name)), Buffer.from(fb.raw(name))), name).toBe(0);
  }
}

describe('resdet import / export / classify', () => {
  const ckpt = join(tmp, 'tiny');

  it('imports the F16 fixture, exports it back identically, and reproduces the logits', async () => {
    const imp = await runCli(
      [
        'import',
        'torchvision',
        '--arch',
        'resnet18',
        '--layers',
        '1,1,1,1',
        '--weights',
        weights,
        '--out',
        ckpt,
        '--json',
      ],
      { env },
    );
    expect(imp.code, imp.stderr).toBe(0);
    expect(JSON.parse(imp.stdout)).toMatchObject({ tensors: 74, classes: 10, dtypes: ['F16', 'I64'] });
    const out = join(tmp, 'tiny_export.safetensors');
    const exp = await cli([
      'export',
      '--model',
      ckpt,
      '--format',
      'torchvision',
      '--out',
      out,
      '--dtype',
      'F16',
    ]);
    expect(exp.code, exp.stderr).toBe(0);
    sameTensors(weights, out);

    const cls = await cli(['classify', '--model', ckpt, '--no-resize', '--json', '--topk', '10', png]);
    expect(cls.code, cls.stderr).toBe(0);
    const [result] = JSON.parse(cls.stdout) as {
      image: string;
      top: { index: number; label: string; prob: number; logit: number }[];
    }[];
    expect(result.image).toBe(png);
    expect(result.top.length).toBe(10);
    for (const p of result.top) {
      expect(Math.abs(p.logit - expected.logits[p.index])).toBeLessThanOrEqual(expected.abs_tolerance);
      expect(p.label).toBe(String(p.index));
    }
    const probSum = result.top.reduce((a, p) => a + p.prob, 0);
    expect(probSum).toBeCloseTo(1, 6);
  });

  it('imports BF16 and exports it back bit for bit', async () => {
    const src = readSafetensors(weights);
    const bf16: Record<string, SafeTensor> = {};
    for (const name of src.names()) {
      const t = src.tensor(name);
      bf16[name] = t.dtype === 'F16' ? fromFloat32(src.float32(name), t.shape, 'BF16') : t;
    }
    const bfPath = join(tmp, 'tiny_bf16.safetensors');
    writeSafetensors(bfPath, bf16);
    const dir = join(tmp, 'tiny_bf16');
    const imp = await cli([
      'import',
      'torchvision',
      '--arch',
      'resnet18',
      '--layers',
      '1,1,1,1',
      '--weights',
      bfPath,
      '--out',
      dir,
    ]);
    expect(imp.code, imp.stderr).toBe(0);
    const out = join(tmp, 'bf16_export.safetensors');
    const exp = await cli([
      'export',
      '--model',
      dir,
      '--format',
      'torchvision',
      '--out',
      out,
      '--dtype',
      'BF16',
    ]);
    expect(exp.code, exp.stderr).toBe(0);
    sameTensors(bfPath, out);
  });

  it('lists missing keys by name when the arch does not fit the weights', async () => {
    const r = await cli([
      'import',
      'torchvision',
      '--arch',
      'resnet18',
      '--weights',
      weights,
      '--out',
      join(tmp, 'bad'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('missing: layer1.1.conv1.weight');
  });

  it('names an unreadable image', async () => {
    const r = await cli(['classify', '--model', ckpt, join(tmp, 'nope.jpg')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('nope.jpg: file not found');
  });

  it('with several images, one that cannot be read does not hide the others', async () => {
    const corrupt = join(tmp, 'corrupt.jpg');
    writeFileSync(corrupt, 'not a jpeg');
    const r = await cli(['classify', '--model', ckpt, '--json', '--topk', '1', png, corrupt, png]);
    expect(r.code).toBe(1);
    const results = JSON.parse(r.stdout);
    expect(results.map((x: { image: string }) => x.image)).toEqual([png, png]);
    expect(r.stderr).toContain('corrupt.jpg');
    expect(r.stderr).toMatch(/1 of 3 images failed/);
  });
});

describe('resdet init', () => {
  it('writes a classifier with named classes that classify can run (eval transform to 32 px)', async () => {
    const dir = join(tmp, 'r20');
    const init = await cli(['init', '--arch', 'resnet20', '--classes', 'cat,dog,bird', '--out', dir]);
    expect(init.code, init.stderr).toBe(0);
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ kind: 'classifier', arch: 'resnet20', classes: ['cat', 'dog', 'bird'] });
    expect(config.model).toMatchObject({ numClasses: 3, shortcut: 'A', stem: 'cifar' });
    expect(readSafetensors(join(dir, 'weights.safetensors')).info('fc.weight').shape).toEqual([3, 64]);
    const cls = await cli(['classify', '--model', dir, '--json', '--topk', '2', png]);
    expect(cls.code, cls.stderr).toBe(0);
    const [result] = JSON.parse(cls.stdout);
    expect(
      result.top
        .map((p: { label: string }) => p.label)
        .every((l: string) => ['cat', 'dog', 'bird'].includes(l)),
    ).toBe(true);
    const again = await cli(['init', '--arch', 'resnet20', '--classes', '3', '--out', dir]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already holds a checkpoint');
  });

  it('refuses an unknown arch, naming the choices', async () => {
    const bad = await cli(['init', '--arch', 'resnet19', '--classes', '3', '--out', join(tmp, 'x')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('unknown architecture "resnet19"');
    expect(bad.stderr).toContain('resnet1202');
  });
});
