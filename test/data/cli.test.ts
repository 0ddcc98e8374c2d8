import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DatasetStats } from '../../data/detection/stats.js';
import { writeSynthSet } from '../../data/synth/write-set.js';
import { main } from '../../tools/cli.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from './helpers.js';

/**
 * Runs the CLI in this process (a spawned `resdet` costs seconds on a loaded machine), capturing
 * what it writes. The spawned runs below check the real executable's exit codes and output.
 */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const log = console.log;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  console.log = (...parts: unknown[]) => {
    stdout += `${parts.join(' ')}\n`;
  };
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
    console.log = log;
  }
}

let dir: string;

async function stats(spec: string, spawn = false): Promise<DatasetStats> {
  const args = ['data', 'stats', '--data', spec, '--json'];
  const r = spawn ? await runCli(args) : await cli(args);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as DatasetStats;
}

/** Everything but the name, which says where the set came from. */
const counts = ({ name: _name, ...rest }: DatasetStats) => rest;

beforeAll(async () => {
  dir = tempDir();
  const r = await cli([
    'data',
    'synth',
    '--kind',
    'shapes',
    '--out',
    dir,
    '--train',
    '12',
    '--test',
    '5',
    '--size',
    '96',
    '--seed',
    '9',
    '--json',
  ]);
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout).images).toEqual({ train: 12, test: 5 });
});

describe('resdet data', () => {
  it('stats --json counts the same for the VOC and the COCO version of a synthetic set', async () => {
    const voc = await stats(`voc:${dir}:train`, true);
    const coco = await stats(`coco:${join(dir, 'annotations', 'instances_train.json')}`, true);
    expect(counts(coco)).toEqual(counts(voc));
    expect(voc.images).toBe(12);
    expect(voc.objects).toBeGreaterThanOrEqual(12);
    expect(Object.values(voc.classes).reduce((n, c) => n + c.objects, 0)).toBe(voc.objects);
    expect(Object.values(voc.boxSizes).reduce((a, b) => a + b, 0)).toBe(voc.objects);
    expect(Object.keys(voc.classes)).toEqual(['circle', 'square', 'triangle', 'star']);
  });

  it('convert voc -> coco -> voc keeps every count', async () => {
    const out = tempDir();
    const json = join(out, 'test.json');
    const a = await cli(['data', 'convert', '--from', `voc:${dir}:test`, '--to', `coco:${json}`, '--json']);
    expect(a.code).toBe(0);
    const spec = JSON.parse(a.stdout).spec as string;
    expect(spec).toBe(`coco:${json}:${join(dir, 'JPEGImages')}`);
    const b = await cli(['data', 'convert', '--from', spec, '--to', `voc:${join(out, 'voc')}:val`]);
    expect(b.code).toBe(0);
    const original = await stats(`voc:${dir}:test`);
    expect(counts(await stats(spec))).toEqual(counts(original));
    expect(counts(await stats(`voc:${join(out, 'voc')}:val`))).toEqual(counts(original));
  });

  it('stops on bad data with the list, and goes on with --skip-bad', async () => {
    const bad = tempDir();
    await writeSynthSet({ kind: 'shapes', out: bad, train: 3, test: 0, size: 64 });
    rmSync(join(bad, 'JPEGImages', '000002.jpg'));
    const r = await runCli(['data', 'stats', '--data', `voc:${bad}:train`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${join(bad, 'Annotations', '000002.xml')}: 000002: image file`);
    expect(r.stderr).toContain('--skip-bad');
    const s = await cli(['data', 'stats', '--data', `voc:${bad}:train`, '--skip-bad', '--json']);
    expect(s.code).toBe(0);
    const st = JSON.parse(s.stdout) as DatasetStats;
    expect(st.images).toBe(2);
    expect(st.skipped).toEqual({ images: 1, objects: 0 });
    expect(st.problems[0]).toMatchObject({ kind: 'missing-image', record: '000002' });
  });

  it('rejects a bad spec or kind as a usage error', async () => {
    expect((await cli(['data', 'stats', '--data', 'yolo:x'])).code).toBe(2);
    expect((await cli(['data', 'synth', '--kind', 'cars', '--out', dir])).code).toBe(2);
  });

  it('synth will not write over a folder that is not empty unless --force', async () => {
    const before = readFileSync(join(dir, 'ImageSets', 'Main', 'train.txt'), 'utf8');
    const r = await cli(['data', 'synth', '--out', dir, '--train', '1', '--test', '1', '--size', '32']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is not empty: .*\n {2}hint: .*--force/);
    expect(readFileSync(join(dir, 'ImageSets', 'Main', 'train.txt'), 'utf8')).toBe(before);
    const other = tempDir();
    writeFileSync(join(other, 'notes.txt'), 'mine');
    const forced = await cli([
      'data',
      'synth',
      '--out',
      other,
      '--train',
      '1',
      '--test',
      '1',
      '--size',
      '32',
      '--force',
    ]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(readFileSync(join(other, 'notes.txt'), 'utf8')).toBe('mine');
  });
});
