/**
 * A classifier checkpoint whose config.json lists more or fewer class names than the model has
 * outputs is refused on load (a detector checkpoint already is): labels are looked up by index.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadClassifierModel, saveClassifier } from '../../backbone/classifier.js';
import { resnetConfig } from '../../backbone/config.js';
import { buildResNet } from '../../backbone/resnet.js';
import { initBackend } from '../../core/backend.js';
import { ResdetError } from '../../core/errors.js';

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
});
