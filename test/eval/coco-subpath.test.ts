/**
 * resdet/coco is usable without TF.js and sharp: importing it, `resdet eval coco` (all three iou
 * types) and `resdet --help` run in a child Node whose module resolution throws on any
 * @tensorflow/* or sharp specifier. The hook is a data: URL, so nothing is written to disk.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';

const HOOK = `export async function resolve(specifier, context, next) {
  if (/^(@tensorflow\\/|sharp($|\\/))/.test(specifier)) throw new Error('heavy module loaded: ' + specifier);
  return next(specifier, context);
}`;
const REGISTER = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOK)}`)});`;

function runGuarded(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(
    process.execPath,
    ['--import', `data:text/javascript,${encodeURIComponent(REGISTER)}`, '--import', 'tsx', ...args],
    { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 },
  );
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const fixtures = join(repoRoot, 'test', 'fixtures', 'eval');

describe('resdet/coco loads without TF.js or sharp', () => {
  it('the guard does catch a TF.js import (the check can fail)', () => {
    const r = runGuarded(['-e', "await import('./core/backend.ts')", '--input-type=module']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/heavy module loaded: @tensorflow\/tfjs/);
  });

  it('importing coco/index.ts loads neither, and exports the API', () => {
    const r = runGuarded([
      '--input-type=module',
      '-e',
      "const c = await import('./coco/index.ts'); console.log(JSON.stringify([typeof c.evaluateCoco, typeof c.CocoDataset, typeof c.mask.frPyObjects, typeof c.loadCocoDataset, typeof c.diagnoseCoco]));",
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(['function', 'function', 'function', 'function', 'function']);
  });

  it('package.json exports ./coco from the built coco/index.js', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
    expect(pkg.exports['./coco']).toBe('./dist/coco/index.js');
  });

  it.each([
    ['bbox', 'coco_public', 'AR100'],
    ['segm', 'segm_public', 'AR100'],
    ['keypoints', 'kp_public', 'AR75'],
  ])('`resdet eval coco --iou-type %s` runs without them', (iouType, dir, stat) => {
    const r = runGuarded([
      'tools/bin.ts',
      'eval',
      'coco',
      '--gt',
      join(fixtures, dir, 'gt.json'),
      '--dt',
      join(fixtures, dir, 'dt.json'),
      '--iou-type',
      iouType,
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(typeof JSON.parse(r.stdout)[stat]).toBe('number');
  });

  it('`resdet --help` lists every command without loading them', () => {
    const r = runGuarded(['tools/bin.ts', '--help']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/train-detector/);
    expect(r.stdout).toMatch(/eval\s+detection mAP/);
  });
});
