import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'resdet-plot-'));

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

function run(name: string, records: Record<string, unknown>[]): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'metrics.jsonl'), records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  return dir;
}

const detectorRecords = Array.from({ length: 30 }, (_, i) => ({
  type: 'train',
  iteration: i + 1,
  lr: 0.01,
  rpnObjectness: 0.7 / (i + 1),
  rpnBox: 0.2,
  classifier: 1.1 / (i + 1),
  box: 0.3,
  total: 2.3 / (i + 1),
}));

describe('resdet plot', () => {
  it("draws a detector run's losses and mAP (SVG and PNG)", async () => {
    const dir = run('det', [...detectorRecords, { type: 'eval', iteration: 30, voc07_mAP: 0.42 }]);
    const svg = join(tmp, 'det.svg');
    const r = await runCli(['plot', dir, '--out', svg]);
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(svg, 'utf8');
    for (const name of ['RPN objectness', 'Fast R-CNN classifier', 'voc07_mAP', 'evaluation'])
      expect(text).toContain(name);
    const png = join(tmp, 'det.png');
    const p = await runCli(['plot', `mine=${join(dir, 'metrics.jsonl')}`, '--out', png]);
    expect(p.code, p.stderr).toBe(0);
    expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG');
    expect(statSync(png).size).toBeGreaterThan(5000);
  });

  it('refuses to mix a detector run with a pretraining run (exit 2)', async () => {
    const det = run('det2', detectorRecords);
    const cls = run('cls', [{ type: 'train', iteration: 1, epoch: 0.5, loss: 2.3, error: 0.9 }]);
    const r = await runCli(['plot', det, cls, '--out', join(tmp, 'mixed.png')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/either pretraining runs or detector runs/);
  });
});
