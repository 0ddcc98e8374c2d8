import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSafetensors, type SafeTensor, writeSafetensors } from '../../core/safetensors.js';
import { repoRoot, runCli } from '../helpers/cli.js';
import { type Det, fixtureDetections, matchDetections } from './match-detections.js';

// torchvision's own FasterRCNN classes at tiny widths (test/detection/fixtures/generators/tiny_fpn.py):
// imported through the CLI, detections compared with torchvision's as matched sets (same count and
// labels, boxes within 1e-2 px, scores within 1e-4).
const FIX = join(repoRoot, 'test', 'fixtures', 'torchvision', 'fpn');
const tmp = mkdtempSync(join(tmpdir(), 'resdet-fpn-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const SIZE = ['--min-size', '320', '--max-size', '512'];
const ARCH = { v1: 'fasterrcnn_resnet50_fpn', v2: 'fasterrcnn_resnet50_fpn_v2' } as const;

interface Expected {
  images: Record<string, { detections: { boxes: number[][]; scores: number[]; labels: number[] } }>;
}

async function importModel(variant: 'v1' | 'v2', file: string, out: string) {
  return runCli([
    'import',
    'torchvision',
    '--arch',
    ARCH[variant],
    '--weights',
    join(FIX, file),
    '--out',
    out,
    ...SIZE,
  ]);
}

async function detect(model: string, image: string): Promise<Det[]> {
  const r = await runCli([
    'detect',
    '--model',
    model,
    join(FIX, `${image}.png`),
    '--json',
    '--score-threshold',
    '0',
  ]);
  expect(r.code, r.stderr).toBe(0);
  const doc = JSON.parse(r.stdout) as { detections: { box: number[]; score: number; labelIndex: number }[] };
  return doc.detections.map((d) => ({ box: d.box, score: d.score, label: d.labelIndex }));
}

describe.each([
  ['v1', 'tiny_fpn_v1.safetensors'],
  ['v1', 'tiny_fpn_v1_oldnames.safetensors'],
  ['v2', 'tiny_fpn_v2.safetensors'],
] as const)('resdet import torchvision --arch %s (%s) matches torchvision', (variant, file) => {
  const expected = JSON.parse(
    readFileSync(join(FIX, `tiny_fpn_${variant}_expected.json`), 'utf8'),
  ) as Expected;
  const out = join(tmp, file);

  it('imports through the CLI and detects what torchvision detects on both images', async () => {
    const r = await importModel(variant, file, out);
    expect(r.code, r.stderr).toBe(0);
    if (file.includes('oldnames')) expect(r.stdout).toMatch(/under older names/);
    for (const image of ['img0', 'img1']) {
      const want = fixtureDetections(expected.images[image].detections);
      expect(want.length).toBeGreaterThan(0);
      const m = matchDetections(want, await detect(out, image));
      expect(m, `${image}: ${JSON.stringify(m)}`).toMatchObject({ ok: true });
    }
  }, 120_000);
});

describe('import torchvision detector: bad input', () => {
  it('refuses a v2 file given --arch fasterrcnn_resnet50_fpn, and a v1 file given the v2 arch', async () => {
    const a = await importModel('v1', 'tiny_fpn_v2.safetensors', join(tmp, 'wrong1'));
    expect(a.code).toBe(1);
    expect(a.stderr).toMatch(/holds fasterrcnn_resnet50_fpn_v2 weights .*not fasterrcnn_resnet50_fpn/);
    const b = await importModel('v2', 'tiny_fpn_v1.safetensors', join(tmp, 'wrong2'));
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/holds fasterrcnn_resnet50_fpn weights .*not fasterrcnn_resnet50_fpn_v2/);
  });

  it('lists missing, unexpected and mis-shaped tensors by name', async () => {
    const src = readSafetensors(join(FIX, 'tiny_fpn_v1.safetensors'));
    const tensors: Record<string, SafeTensor> = {};
    for (const name of src.names()) tensors[name] = src.tensor(name);
    delete tensors['rpn.head.bbox_pred.bias'];
    tensors['roi_heads.box_head.fc8.weight'] = { dtype: 'F32', shape: [2], data: new Float32Array(2) };
    const w = tensors['backbone.fpn.layer_blocks.1.0.weight'];
    tensors['backbone.fpn.layer_blocks.1.0.weight'] = { ...w, shape: [w.shape[0], w.shape[1], 1, 9] };
    const bad = join(tmp, 'bad.safetensors');
    writeSafetensors(bad, tensors);
    const r = await runCli([
      'import',
      'torchvision',
      '--arch',
      ARCH.v1,
      '--weights',
      bad,
      '--out',
      join(tmp, 'bad'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/missing: rpn\.head\.bbox_pred\.bias/);
    expect(r.stderr).toMatch(/unexpected: roi_heads\.box_head\.fc8\.weight/);
    expect(r.stderr).toMatch(
      /mis-shaped: backbone\.fpn\.layer_blocks\.1\.0\.weight \(file \[32,32,1,9\], model \[32,32,3,3\]\)/,
    );
  });

  it('refuses a file that is not an R50-FPN state dict', async () => {
    const r = await runCli([
      'import',
      'torchvision',
      '--arch',
      ARCH.v1,
      '--weights',
      join(repoRoot, 'test', 'fixtures', 'torchvision', 'tiny_resnet_basic1111_c10_f16.safetensors'),
      '--out',
      join(tmp, 'notdet'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not a torchvision Faster R-CNN R50-FPN state dict/);
  });
});
