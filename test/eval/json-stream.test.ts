/**
 * The streaming JSON path: a generated instances file read with tiny chunks (so boundaries
 * fall inside strings, escapes, multi-byte characters and numbers) must equal JSON.parse, and
 * evaluation through it must equal evaluation through the plain path.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JsonStreamParser } from '../../data/coco/json-stream.js';
import { loadCocoDataset, loadCocoResults } from '../../data/coco/load.js';
import { readJsonDocument } from '../../data/coco/read-json.js';
import { Rng } from '../../core/rng.js';
import { evaluateCoco } from '../../detection/eval/coco.js';
import { repoRoot } from '../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'resdet-stream-'));

function sampleDoc() {
  const rng = new Rng(7);
  const images = Array.from({ length: 40 }, (_, i) => ({
    id: 1000 + i,
    file_name: `img_${i}_é漢字🙂 "q" \\ \n.jpg`,
    width: 640,
    height: 480,
  }));
  const annotations = Array.from({ length: 300 }, (_, i) => {
    const w = 1 + rng.next() * 200;
    const h = 1 + rng.next() * 200;
    return {
      id: i + 1,
      image_id: 1000 + (i % 40),
      category_id: [1, 3, 7][i % 3],
      bbox: [rng.next() * 400, rng.next() * 300, w, h],
      area: w * h * 0.7,
      iscrowd: i % 50 === 0 ? 1 : 0,
      segmentation: [[1.5e-3, -2.25e2, 3, 4, 5.125, 6]],
    };
  });
  return {
    info: { description: 'stream \u2028 test', nested: { a: [1, { b: null }], t: true, f: false } },
    licenses: [],
    images,
    annotations,
    categories: [
      { id: 1, name: 'eins' },
      { id: 3, name: 'drei' },
      { id: 7, name: 'sieben' },
    ],
  };
}

function feed(text: string, chunk: number) {
  const buf = Buffer.from(text, 'utf8');
  const out: Record<string, unknown> = {};
  let root: unknown[] | undefined;
  const p = new JsonStreamParser('mem.json', {
    onArrayStart(key) {
      if (key === null) root = [];
      else out[key] = [];
    },
    onElement(key, v) {
      if (key === null) root?.push(v);
      else (out[key] as unknown[]).push(v);
    },
    onValue(key, v) {
      out[key] = v;
    },
  });
  for (let i = 0; i < buf.length; i += chunk) p.push(buf.subarray(i, i + chunk));
  p.end();
  return root ?? out;
}

describe('streaming JSON reader', () => {
  const doc = sampleDoc();
  const text = JSON.stringify(doc, null, 1);

  it.each([1, 2, 3, 7, 64, 4096])('chunks of %i bytes give the same document as JSON.parse', (chunk) => {
    expect(feed(text, chunk)).toEqual(JSON.parse(text));
  });

  it('streams a top-level array (a results file) and scalars in it', () => {
    expect(feed('[ {"a": 1}, 2.5e3 , "x\\"y", true, null, [1,[2]] ]', 3)).toEqual([
      { a: 1 },
      2500,
      'x"y',
      true,
      null,
      [1, [2]],
    ]);
    expect(feed('[]', 1)).toEqual([]);
  });

  it('reads a file from disk through fs streams with a small chunk size', async () => {
    const path = join(tmp, 'gt.json');
    writeFileSync(path, text);
    const got = await readJsonDocument(path, { streamThreshold: 0, chunkSize: 5 });
    expect(got).toEqual(JSON.parse(text));
  });

  it('evaluation through the streaming path equals the plain path', async () => {
    const dir = join(repoRoot, 'test', 'fixtures', 'eval', 'coco_public');
    const plainGt = await loadCocoDataset(join(dir, 'gt.json'));
    const plain = evaluateCoco(plainGt, await loadCocoResults(join(dir, 'dt.json'), plainGt));
    const opts = { streamThreshold: 0, chunkSize: 13 };
    const gt = await loadCocoDataset(join(dir, 'gt.json'), opts);
    const streamed = evaluateCoco(gt, await loadCocoResults(join(dir, 'dt.json'), gt, opts));
    expect(streamed.stats).toEqual(plain.stats);
    expect(gt.annotations[0].segmentation).toBeUndefined();
  });

  it.each([
    ['truncated', '{"images": [{"id": 1}, {"id": 2', /unexpected end of file inside images/],
    ['trailing garbage', '{"images": []} x', /unexpected 'x' after the end/],
    [
      'bad element',
      '{"images": [], "annotations": [{"id": 1}, {"id": 2,}]}',
      /annotations\[1\].*malformed JSON/,
    ],
    ['missing colon', '{"images" []}', /expected ':' after "images"/],
    ['not a container', '"just a string"', /expected '\{' or '\['/],
  ])('reports %s with the byte offset or record', (_name, bad, pattern) => {
    expect(() => feed(bad, 4)).toThrow(pattern);
    expect(() => feed(bad, 4)).toThrow(/mem\.json/);
  });
});
