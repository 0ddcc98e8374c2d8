import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../core/backend.js';
import { readSafetensors, toFloat32 } from '../../core/safetensors.js';
import { importTorchvisionFpn } from '../../detection/app/import-torchvision.js';
import { fineTuneDetector } from '../../detection/train/fine-tune.js';
import { repoRoot, runCli } from '../helpers/cli.js';

const FIX = join(repoRoot, 'test', 'fixtures', 'torchvision', 'fpn');
const tmp = mkdtempSync(join(tmpdir(), 'resdet-fpn-ft-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function tiny() {
  return importTorchvisionFpn(
    readSafetensors(join(FIX, 'tiny_fpn_v1.safetensors')),
    'fasterrcnn_resnet50_fpn',
    {
      transform: { minSize: 128, maxSize: 128 },
    },
  ).model;
}

describe('fine-tuning an imported FPN detector', () => {
  beforeAll(async () => {
    await initBackend('wasm', { notice: () => {} });
  });

  it('replaces the box predictor for the new classes and keeps every other tensor', async () => {
    const source = tiny();
    const model = await fineTuneDetector(source, { numClasses: 3, freezeAt: 5, frozenBn: true });
    try {
      const before = await source.stateDict();
      const after = await model.stateDict();
      expect(after['roi_heads.box_predictor.cls_score.weight'].shape).toEqual([4, 64]);
      expect(after['roi_heads.box_predictor.bbox_pred.weight'].shape).toEqual([16, 64]);
      for (const name of Object.keys(before)) {
        if (name.startsWith('roi_heads.box_predictor.')) continue;
        expect(Array.from(toFloat32(after[name])), name).toEqual(Array.from(toFloat32(before[name])));
      }
      // freeze-at 5: the whole ResNet body is fixed; the FPN, RPN and heads train.
      const trainable = model.namedTrainableVariables().map((v) => v.name);
      expect(trainable.some((n) => n.startsWith('backbone.body.'))).toBe(false);
      expect(trainable).toContain('backbone.fpn.inner_blocks.0.0.weight');
      expect(trainable).toContain('roi_heads.box_predictor.cls_score.weight');
      model.setFreezeAt(0);
      model.setFrozenBn(false);
      expect(model.namedTrainableVariables().map((v) => v.name)).toContain(
        'backbone.body.layer1.0.bn1.weight',
      );
    } finally {
      source.dispose();
      model.dispose();
    }
  });

  it('--keep-predictor with another class count is an error naming both shapes', async () => {
    const source = tiny();
    try {
      await expect(fineTuneDetector(source, { numClasses: 3, keepPredictor: true })).rejects.toThrow(
        /cls_score\.weight is \[91, 64\] \(90 classes \+ background\), the data needs \[4, 64\] \(3 classes \+ background\)/,
      );
    } finally {
      source.dispose();
    }
  });

  it('resdet train-detector --from DIR trains and writes a checkpoint with the data classes', async () => {
    const imported = join(tmp, 'imported');
    let r = await runCli([
      'import',
      'torchvision',
      '--arch',
      'fasterrcnn_resnet50_fpn',
      '--weights',
      join(FIX, 'tiny_fpn_v1.safetensors'),
      '--out',
      imported,
    ]);
    expect(r.code, r.stderr).toBe(0);
    r = await runCli([
      'data',
      'synth',
      '--kind',
      'shapes',
      '--out',
      join(tmp, 'shapes'),
      '--train',
      '4',
      '--test',
      '2',
      '--size',
      '96',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const out = join(tmp, 'ft');
    r = await runCli([
      'train-detector',
      '--from',
      imported,
      '--data',
      `voc:${join(tmp, 'shapes')}:train`,
      '--out',
      out,
      '--iterations',
      '2',
      '--min-size',
      '96',
      '--max-size',
      '96',
      '--freeze-at',
      '5',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config.classes).toEqual(
      readFileSync(join(tmp, 'shapes', 'classes.txt'), 'utf8')
        .trim()
        .split('\n'),
    );
    expect(config.model.kind).toBe('fpn');
    expect(config.model.numClasses).toBe(config.classes.length);
    expect(config.model.backbone.freezeAt).toBe(5);
    const weights = readSafetensors(join(out, 'weights.safetensors'));
    expect(weights.info('roi_heads.box_predictor.cls_score.weight').shape).toEqual([
      config.classes.length + 1,
      64,
    ]);
    const d = await runCli([
      'detect',
      '--model',
      out,
      join(FIX, 'img0.png'),
      '--json',
      '--score-threshold',
      '0',
    ]);
    expect(d.code, d.stderr).toBe(0);
    for (const det of JSON.parse(d.stdout).detections) expect(config.classes).toContain(det.label);
  }, 180_000);
});
