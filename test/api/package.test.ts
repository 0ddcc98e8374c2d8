import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';

// The package as a user installs it: built from the sources into a temporary package folder
// (dist/ plus what package.json's "files" ships), linked into a temporary app's node_modules,
// and imported there by its public names only. No network: the dependencies are the repository's
// own node_modules, linked.

const run = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), 'resdet-package-'));
const pkg = join(tmp, 'resdet');
const app = join(tmp, 'app');

// Run in the app: a tiny detector trained on an in-memory dataset object, then detect and
// evaluate, all through the package's entry points. Prints one JSON line for the assertions.
const SCRIPT = `
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as root from 'resdet';
import * as core from 'resdet/core';
import * as backbone from 'resdet/backbone';
import * as data from 'resdet/data';
import * as detection from 'resdet/detection';
import * as server from 'resdet/server';
import * as queue from 'resdet/queue';
import * as coco from 'resdet/coco';

const dir = process.argv[2];
const { initBackend, writeSynthSet, openDataset, trainDetector, loadDetector, decodeImage } = root;
const selection = await initBackend({ backend: 'wasm', threads: 1, notice: () => {} });
await writeSynthSet({ kind: 'shapes', out: join(dir, 'shapes'), train: 4, test: 2, size: 64, seed: 3 });
const dataset = await openDataset('voc:' + join(dir, 'shapes') + ':train');
const out = join(dir, 'det');
const trained = await trainDetector({
  data: dataset, out, backbone: 'resnet18-w8', iterations: 3, minSize: 64, maxSize: 64,
  anchorSizes: [16, 32, 64], preset: 'cpu', imagesPerBatch: 1, lr: 0.02, warmupIters: 0,
  steps: [1000], roiHeads: { batchSizePerImage: 16, poolSize: 4 }, silent: true, log: () => {},
});
const detector = await loadDetector(out);
const image = await decodeImage(readFileSync(dataset.get(0).path));
const found = await detector.detect(image, { scoreThreshold: 0 });
const report = await detection.evaluateDetector({
  model: detector, data: 'voc:' + join(dir, 'shapes') + ':test', metrics: ['voc07'],
  out: join(dir, 'eval'), silent: true,
});
detector.dispose();
let deep = '';
try { await import('resdet/detection/boxes.js'); } catch (err) { deep = err.code; }
const names = (m) => Object.keys(m).sort();
console.log(JSON.stringify({
  backend: selection.backend,
  trained: { iteration: trained.iteration, images: trained.images, dataset: trained.dataset },
  found: found.slice(0, 3),
  foundCount: found.length,
  report: { images: report.images, files: report.files, voc: report.evaluation.voc,
    returned: report.results.reduce((n, r) => n + r.detections.length, 0),
    written: JSON.parse(readFileSync(report.files.cocoJson, 'utf8')).length },
  config: JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).training,
  deep,
  exports: { root: names(root), core: names(core), backbone: names(backbone), data: names(data),
    detection: names(detection), server: names(server), queue: names(queue), coco: names(coco) },
}));
`;

interface Outcome {
  backend: string;
  trained: { iteration: number; images: number; dataset: string };
  found: { box: number[]; label: string; labelIndex: number; score: number }[];
  foundCount: number;
  report: {
    images: number;
    files: { cocoJson: string; vocDir: string };
    voc: { metric: string; mAP: number; per_class: Record<string, number> };
    returned: number;
    written: number;
  };
  config: { dataset?: string };
  deep: string;
  exports: Record<
    'root' | 'core' | 'backbone' | 'data' | 'detection' | 'server' | 'queue' | 'coco',
    string[]
  >;
}

let outcome: Outcome;

beforeAll(async () => {
  // `npm run build`'s compile, into the temporary package instead of the work tree's dist/.
  await run(
    process.execPath,
    [
      join(repoRoot, 'node_modules/typescript/bin/tsc'),
      '-p',
      'tsconfig.build.json',
      '--outDir',
      join(pkg, 'dist'),
    ],
    { cwd: repoRoot },
  );
  cpSync(join(repoRoot, 'package.json'), join(pkg, 'package.json'));
  mkdirSync(join(pkg, 'backbone'));
  cpSync(join(repoRoot, 'backbone'), join(pkg, 'backbone'), {
    recursive: true,
    filter: (src) => !src.endsWith('.ts'),
  });
  cpSync(join(repoRoot, 'server/public'), join(pkg, 'server/public'), { recursive: true });
  symlinkSync(join(repoRoot, 'node_modules'), join(pkg, 'node_modules'), 'dir');
  mkdirSync(join(app, 'node_modules'), { recursive: true });
  symlinkSync(pkg, join(app, 'node_modules', 'resdet'), 'dir');
  writeFileSync(join(app, 'package.json'), '{"type":"module","private":true}\n');
  writeFileSync(join(app, 'main.mjs'), SCRIPT);
  const work = join(tmp, 'work');
  mkdirSync(work);
  const { stdout } = await run(process.execPath, [join(app, 'main.mjs'), work], {
    cwd: app,
    env: { ...process.env, RESDET_WASM_THREADS: '1' },
    maxBuffer: 1 << 24,
  });
  outcome = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Outcome;
}, 300_000);

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('the built package, by its public names', () => {
  it('trains on a dataset object, detects and evaluates through resdet and resdet/detection', () => {
    expect(outcome.backend).toBe('wasm');
    expect(outcome.trained).toEqual({ iteration: 3, images: 4, dataset: expect.stringContaining('shapes') });
    // The checkpoint records the dataset object's name, not "[object Object]".
    expect(outcome.config.dataset).toBe(outcome.trained.dataset);
    expect(outcome.foundCount).toBeGreaterThan(0);
    for (const d of outcome.found) {
      expect(d.box).toHaveLength(4);
      expect(d.box[2]).toBeGreaterThanOrEqual(d.box[0]);
      expect(d.box[3]).toBeGreaterThanOrEqual(d.box[1]);
      expect(['circle', 'square', 'star', 'triangle']).toContain(d.label);
    }
    expect(outcome.report.images).toBe(2);
    expect(outcome.report.files.cocoJson).toMatch(/detections_coco\.json$/);
    expect(outcome.report.voc.metric).toBe('voc07');
    const ap = outcome.report.voc.per_class;
    expect(Object.keys(ap).sort()).toEqual(['circle', 'square', 'star', 'triangle']);
    // The mAP is the mean over the classes, each an AP in [0, 1]; every detection is in the file.
    const values = Object.values(ap);
    for (const v of values) expect(v >= 0 && v <= 1, `AP ${v}`).toBe(true);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    expect(outcome.report.voc.mAP).toBeCloseTo(mean, 12);
    expect(outcome.report.returned).toBeGreaterThan(0);
    expect(outcome.report.written).toBe(outcome.report.returned);
  });

  it('exports the documented entry points and keeps internals out', () => {
    const { root, core, backbone, data, detection, server, queue, coco } = outcome.exports;
    for (const name of ['initBackend', 'loadClassifier', 'pretrain', 'loadDetector', 'trainDetector'])
      expect(root).toContain(name);
    for (const name of [
      'evaluateDetector',
      'evaluateCoco',
      'openDataset',
      'startServer',
      'createApp',
      'evaluateVoc',
    ])
      expect(root).toContain(name);
    expect(core).toEqual(expect.arrayContaining(['initBackend', 'ResdetError', 'registerWebgpuKernels']));
    expect(backbone).toEqual(expect.arrayContaining(['buildResNet', 'resnetConfig', 'RESNET_ARCHS']));
    expect(data).toEqual(expect.arrayContaining(['DetectionLoader', 'openDataset', 'decodeImage']));
    expect(coco).toEqual(expect.arrayContaining(['CocoDataset', 'loadCocoDataset', 'evaluateCoco', 'mask']));
    expect(core).toEqual(expect.arrayContaining(['runTrainLoop', 'Sgd']));
    expect(detection).toEqual(
      expect.arrayContaining(['boxIou', 'nms', 'roiAlign', 'FasterRCNN', 'writeResultFiles', 'runDemo']),
    );
    expect(server).toEqual(expect.arrayContaining(['createApp', 'loadModels', 'startServer']));
    expect(queue).toEqual(expect.arrayContaining(['submitRun', 'startQueueWorker', 'collectRun']));
    // Flat-array helpers, fixture formatters, redis key builders: imported by path inside the
    // package, not part of its surface; and no name comes from two subpaths.
    expect(detection).not.toContain('toFlatBoxes');
    expect(detection).not.toContain('pyFixed3');
    expect(detection).not.toContain('boxesToOriginal');
    expect(queue).not.toContain('chunkJobId');
    expect(core).not.toContain('wrapGpuForTfjs');
    const subpaths = [core, backbone, data, detection, server, queue, coco];
    const all = subpaths.flat();
    expect(all.filter((n, i) => all.indexOf(n) !== i)).toEqual([]);
    // Deep imports are refused by the exports map.
    expect(outcome.deep).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
  });
});
