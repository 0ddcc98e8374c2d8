import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from '../helpers/cli.js';

// The detector commands end to end, each in its own process, on tiny synthetic data (wasm).

const tmp = mkdtempSync(join(tmpdir(), 'resdet-det-cli-'));
const data = join(tmp, 'shapes');
const env = { RESDET_BACKEND: 'wasm' };

/** VOC07 mAP of devkit result files in `vocDir`, scored on their own by `resdet eval voc`. */
async function rescoredVoc07(root: string, vocDir: string): Promise<number> {
  const dets = join(vocDir, 'comp4_det_test_{cls}.txt');
  const r = await runCli(
    ['eval', 'voc', '--root', root, '--split', 'test', '--dets', dets, '--metric', 'voc07', '--json'],
    {
      env,
    },
  );
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { mAP: number }).mAP;
}

beforeAll(async () => {
  const r = await runCli(
    ['data', 'synth', '--kind', 'shapes', '--out', data, '--train', '4', '--test', '3', '--size', '64'],
    {
      env,
    },
  );
  expect(r.code, r.stderr).toBe(0);
});

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('detector CLI', () => {
  it('init --kind detector writes a loadable checkpoint; detect --json and --draw use it', async () => {
    const model = join(tmp, 'init');
    const init = await runCli(
      [
        'init',
        '--kind',
        'detector',
        '--arch',
        'resnet18-w8',
        '--classes',
        'circle,square,triangle,star',
        '--out',
        model,
      ],
      { env },
    );
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toMatch(/Faster R-CNN detector \(4 classes/);
    const config = JSON.parse(readFileSync(join(model, 'config.json'), 'utf8'));
    expect(config.kind).toBe('detector');
    expect(config.classes).toEqual(['circle', 'square', 'triangle', 'star']);

    const image = join(data, 'JPEGImages', '000005.jpg');
    const drawn = join(tmp, 'drawn.png');
    const det = await runCli(
      [
        'detect',
        '--model',
        model,
        image,
        '--json',
        '--score-threshold',
        '0',
        '--max-detections',
        '5',
        '--draw',
        drawn,
      ],
      { env },
    );
    expect(det.code, det.stderr).toBe(0);
    const out = JSON.parse(det.stdout);
    expect(out.width).toBe(64);
    expect(out.detections.length).toBeLessThanOrEqual(5);
    for (const d of out.detections) {
      expect(d.box).toHaveLength(4);
      expect(config.classes[d.labelIndex]).toBe(d.label);
    }
    const meta = await sharp(drawn).metadata();
    expect([meta.width, meta.height]).toEqual([64, 64]);

    const corrupt = join(tmp, 'corrupt.png');
    writeFileSync(corrupt, 'not a png');
    const several = await runCli(['detect', '--model', model, '--json', corrupt, image], { env });
    expect(several.code).toBe(1);
    expect(JSON.parse(several.stdout).map((x: { image: string }) => x.image)).toEqual([image]);
    expect(several.stderr).toContain('corrupt.png');
    expect(several.stderr).toMatch(/1 of 2 images failed/);

    const missing = await runCli(['detect', '--model', model, join(tmp, 'nope.jpg')], { env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.jpg: no such file/);

    // Bad ground-truth records are left out of the evaluation, and the user is told so; a set
    // with nothing left is an error, not an mAP of 0.
    const gt = JSON.parse(readFileSync(join(data, 'annotations', 'instances_test.json'), 'utf8'));
    gt.images[0].file_name = 'gone.jpg';
    const bad = join(tmp, 'bad-gt.json');
    writeFileSync(bad, JSON.stringify(gt));
    const images = join(data, 'JPEGImages');
    const evaluateBad = (...extra: string[]) =>
      runCli(
        [
          'evaluate-detector',
          '--model',
          model,
          '--data',
          `coco:${bad}:${images}`,
          '--out',
          join(tmp, 'ev-bad'),
        ].concat(extra),
        { env },
      );
    const skipped = await evaluateBad('--json');
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(JSON.parse(skipped.stdout).images).toBe(gt.images.length - 1);
    expect(skipped.stderr).toMatch(
      /left out 1 image\(s\) .*with bad data; first: .*bad-gt\.json: .*gone\.jpg/,
    );
    for (const im of gt.images) im.file_name = `gone-${im.file_name}`;
    writeFileSync(bad, JSON.stringify(gt));
    const none = await evaluateBad();
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no images to evaluate \(all 3 were left out as bad data/);
    expect(none.stderr).not.toMatch(/left out 3 image/);
  });

  it('train-detector, then evaluate-detector writes result files and reports VOC07 and COCO', async () => {
    const model = join(tmp, 'trained');
    const train = await runCli(
      [
        'train-detector',
        '--data',
        `voc:${data}:train`,
        '--backbone',
        'resnet18-w8',
        '--out',
        model,
        '--iterations',
        '4',
        '--min-size',
        '64',
        '--max-size',
        '64',
        '--anchor-sizes',
        '16,32,64',
        '--preset',
        'cpu',
        '--images-per-batch',
        '1',
        '--json',
      ],
      { env },
    );
    expect(train.code, train.stderr).toBe(0);
    const summary = JSON.parse(train.stdout);
    expect(summary.iteration).toBe(4);
    expect(summary.backend).toBe('wasm');
    expect(existsSync(join(model, 'loss.png'))).toBe(true);

    const again = await runCli(
      ['train-detector', '--data', `voc:${data}:train`, '--backbone', 'resnet18-w8', '--out', model],
      {
        env,
      },
    );
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already holds a checkpoint/);

    const done = await runCli(['train-detector', '--data', `voc:${data}:train`, '--out', model, '--resume'], {
      env,
    });
    expect(done.code).toBe(2);
    expect(done.stderr).toMatch(/already at iteration 4, and the run's total is 4/);
    const noBackbone = await runCli(
      ['train-detector', '--data', `voc:${data}:train`, '--out', join(tmp, 'nb')],
      {
        env,
      },
    );
    expect(noBackbone.code).toBe(2);
    expect(noBackbone.stderr).toMatch(/a new run needs --backbone/);

    const ev = await runCli(
      [
        'evaluate-detector',
        '--model',
        model,
        '--data',
        `voc:${data}:test`,
        '--metric',
        'voc07,coco',
        '--json',
      ],
      { env },
    );
    expect(ev.code, ev.stderr).toBe(0);
    const report = JSON.parse(ev.stdout);
    expect(report.images).toBe(3);
    expect(report.voc.metric).toBe('voc07');
    expect(Object.keys(report.voc.per_class)).toEqual(['circle', 'square', 'triangle', 'star']);
    const perClass = Object.values(report.voc.per_class) as number[];
    expect(report.voc.mAP).toBeCloseTo(perClass.reduce((a, b) => a + b, 0) / perClass.length, 12);
    expect(existsSync(report.files.cocoJson)).toBe(true);
    // The devkit files it wrote, scored on their own by `resdet eval voc`: the same mAP.
    expect(await rescoredVoc07(data, report.files.vocDir)).toBe(report.voc.mAP);
    for (const cls of ['circle', 'square', 'triangle', 'star']) {
      expect(existsSync(join(report.files.vocDir, `comp4_det_test_${cls}.txt`))).toBe(true);
    }

    // The same images as a COCO file: evaluated from the file's own records (read once), the COCO
    // figures must be those of the VOC layout's ground truth.
    const ann = join(tmp, 'test-coco', 'instances_test.json');
    const convert = await runCli(
      ['data', 'convert', '--from', `voc:${data}:test`, '--to', `coco:${ann}`, '--json'],
      { env },
    );
    expect(convert.code, convert.stderr).toBe(0);
    // The COCO results file it wrote, scored by `resdet eval coco` against the same images: the same AP.
    const cocoAgain = await runCli(['eval', 'coco', '--gt', ann, '--dt', report.files.cocoJson, '--json'], {
      env,
    });
    expect(cocoAgain.code, cocoAgain.stderr).toBe(0);
    expect(JSON.parse(cocoAgain.stdout).AP).toBe(report.coco.AP);
    const onCoco = await runCli(
      [
        'evaluate-detector',
        '--model',
        model,
        '--data',
        `coco:${ann}:${join(data, 'JPEGImages')}`,
        '--metric',
        'coco',
        '--out',
        join(tmp, 'eval-coco'),
        '--json',
      ],
      { env },
    );
    expect(onCoco.code, onCoco.stderr).toBe(0);
    const cocoReport = JSON.parse(onCoco.stdout);
    expect(cocoReport.images).toBe(3);
    expect(cocoReport.voc).toBeUndefined();
    expect(cocoReport.coco).toEqual(report.coco);

    const bad = await runCli(
      ['evaluate-detector', '--model', model, '--data', `voc:${data}:test`, '--metric', 'map'],
      { env },
    );
    expect(bad.code).toBe(2);
  });

  it('train-detector stops at once on SIGTERM, saves a checkpoint and exits 143', async () => {
    const out = join(tmp, 'interrupted');
    const args = ['train-detector', '--data', `voc:${data}:train`, '--backbone', 'resnet18-w8', '--out', out];
    args.push('--iterations', '5000', '--checkpoint-every', '2000', '--min-size', '64', '--max-size', '64');
    args.push('--anchor-sizes', '16,32,64', '--preset', 'cpu', '--images-per-batch', '1');
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'tools', 'bin.ts'), ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const code = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    const metrics = join(out, 'metrics.jsonl');
    const lines = () => (existsSync(metrics) ? readFileSync(metrics, 'utf8').split('\n').length - 1 : 0);
    for (let waited = 0; lines() < 3; waited += 100) {
      if (waited > 60_000) throw new Error('training did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGTERM');
    // The 4 tiny images are cached, so no step waits on I/O: the handler must still get a turn
    // (it used to wait for the checkpoint at iteration 2000).
    const timeout = setTimeout(() => child.kill('SIGKILL'), 30_000);
    expect(await code).toBe(143);
    clearTimeout(timeout);
    const saved = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).training.iteration;
    expect(saved).toBeGreaterThanOrEqual(3);
    expect(saved).toBeLessThan(2000);
  });

  it('demo runs end to end on a tiny budget and says where everything went', async () => {
    const out = join(tmp, 'demo');
    const r = await runCli(
      ['demo', '--out', out, '--minutes', '0.1', '--train', '6', '--test', '2', '--size', '64', '--json'],
      {
        env,
      },
    );
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    for (const path of [s.model, s.lossPlot, s.drawing, s.summary, s.results.cocoJson]) {
      expect(existsSync(path), path).toBe(true);
    }
    expect(s.iterations).toBeGreaterThan(0);
    // The figures it reports are those it wrote, and the devkit files score to them on their own.
    const written = readFileSync(s.summary, 'utf8');
    expect(written).toContain(`VOC07 mAP@0.5: ${s.voc07_mAP.toFixed(4)}`);
    expect(await rescoredVoc07(s.data, s.results.vocDir)).toBe(s.voc07_mAP);
  });
});
