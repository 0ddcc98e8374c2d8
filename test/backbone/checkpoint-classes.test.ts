/**
 * A classifier checkpoint whose config.json lists more or fewer class names than the model has
 * outputs is refused on load (a detector checkpoint already is): labels are looked up by index.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadClassifierCheckpoint, loadClassifierModel, saveClassifier } from '../../backbone/classifier.js';
import { resnetConfig } from '../../backbone/config.js';
import { buildResNet } from '../../backbone/resnet.js';
import { initBackend } from '../../core/backend.js';
import { ResdetError, UsageError } from '../../core/errors.js';

beforeAll(async () => {
  await initBackend('cpu');
});

describe('classifier checkpoint class list', () => {
  it('loads when names match outputs, refuses an edited list of another length', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'resdet-cls-classes-'));
    const classes = ['a', 'b', 'c'];
    const model = buildResNet(resnetConfig('resnet20', { numClasses: 3, baseWidth: 4 }));
    await saveClassifier(dir, model, { arch: 'resnet20', classes });
    model.dispose();
    loadClassifierModel(dir).model.dispose();

    const path = join(dir, 'config.json');
    const config = JSON.parse(readFileSync(path, 'utf8'));
    writeFileSync(path, JSON.stringify({ ...config, classes: [...classes, 'extra'] }));
    expect(() => loadClassifierModel(dir)).toThrow(ResdetError);
    expect(() => loadClassifierModel(dir)).toThrow(/config\.json: 4 class names for a model with 3 outputs/);
  });

  it("one loader refuses another kind of checkpoint before opening weights, in its caller's words", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'resdet-cls-kind-'));
    const model = buildResNet(resnetConfig('resnet20', { numClasses: 2, baseWidth: 4 }));
    await saveClassifier(dir, model, { arch: 'resnet20', classes: ['a', 'b'] });
    model.dispose();
    expect(loadClassifierCheckpoint(dir).config.kind).toBe('classifier');
    const path = join(dir, 'config.json');
    writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), kind: 'detector' }));
    // No weights at all: the refusal must come from the config alone.
    rmSync(join(dir, 'weights.safetensors'));
    expect(() => loadClassifierModel(dir)).toThrow(/a detector checkpoint, not a classifier/);
    const usage = () =>
      loadClassifierCheckpoint(dir, (kind) => new UsageError(`--backbone: a ${kind} checkpoint`));
    expect(usage).toThrow(UsageError);
    expect(usage).toThrow(/--backbone: a detector checkpoint/);
    rmSync(dir, { recursive: true, force: true });
  });
});
