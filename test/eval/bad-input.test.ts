/**
 * Bad input stops with an error naming the file, the record and the problem: malformed JSON,
 * missing fields, zero or negative sizes, NaN scores, unknown image or category ids.
 */
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ResdetError } from '../../core/errors.js';
import { loadCocoDataset, loadCocoResults } from '../../data/coco/load.js';
import { evaluateCoco } from '../../detection/eval/coco.js';
import { evaluateVoc } from '../../detection/eval/voc.js';
import { readVocResultFile, readVocXml } from '../../detection/eval/voc-io.js';
import { repoRoot, runCli } from '../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'resdet-bad-'));
const gtDoc = () => ({
  images: [{ id: 1 }, { id: 2 }],
  categories: [{ id: 1, name: 'a' }],
  annotations: [
    { id: 1, image_id: 1, category_id: 1, bbox: [0, 0, 10, 10], area: 100, iscrowd: 0 },
    { id: 2, image_id: 2, category_id: 1, bbox: [5, 5, 10, 10], area: 100, iscrowd: 0 },
  ],
});
const good = { image_id: 1, category_id: 1, bbox: [0, 0, 10, 10], score: 0.9 };

function write(name: string, content: unknown): string {
  const path = join(tmp, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

async function loadError(gt: unknown, dt: unknown): Promise<string> {
  const gtPath = write('gt.json', gt);
  const dtPath = write('dt.json', dt);
  try {
    const g = await loadCocoDataset(gtPath);
    await loadCocoResults(dtPath, g);
  } catch (err) {
    expect(err).toBeInstanceOf(ResdetError);
    return (err as Error).message;
  }
  throw new Error('expected an error');
}

describe('COCO bad input', () => {
  it('malformed JSON names the file', async () => {
    expect(await loadError(gtDoc(), '[{"image_id": 1, "bbox": [0,0,1')).toMatch(/dt\.json: malformed JSON/);
    expect(await loadError('{"images": [}', [])).toMatch(/gt\.json: malformed JSON/);
  });

  it.each([
    ['bbox', /gt\.json: annotations\[1\] \(id 2\): missing field "bbox"/],
    ['area', /gt\.json: annotations\[1\] \(id 2\): missing field "area"/],
    ['image_id', /gt\.json: annotations\[1\] \(id 2\): missing field "image_id"/],
    ['iscrowd', /gt\.json: annotations\[1\] \(id 2\): missing field "iscrowd"/],
  ])('a GT annotation without %s', async (field, pattern) => {
    const doc = gtDoc();
    delete (doc.annotations[1] as Record<string, unknown>)[field];
    expect(await loadError(doc, [good])).toMatch(pattern);
  });

  it.each([
    ['score', /dt\.json: \[1\]: missing field "score"/],
    ['category_id', /dt\.json: \[1\]: missing field "category_id"/],
  ])('a result without %s', async (field, pattern) => {
    const bad: Record<string, unknown> = { ...good };
    delete bad[field];
    expect(await loadError(gtDoc(), [good, bad])).toMatch(pattern);
  });

  it('a directory or a binary file names the path, without echoing raw bytes', async () => {
    const dir = join(tmp, 'a-dir.json');
    mkdirSync(dir, { recursive: true });
    await expect(loadCocoDataset(dir)).rejects.toThrow(/a-dir\.json: is a directory, not a JSON file/);
    const binary = write('image.json', '');
    writeFileSync(binary, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x07, 0x1b]));
    const message = await loadCocoDataset(binary).then(
      () => '',
      (err: Error) => err.message,
    );
    expect(message).toMatch(/image\.json: malformed JSON/);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting none reach the terminal
    expect(message).not.toMatch(/[\u0000-\u001f\ufffd]/);
  });

  it('zero and negative box sizes', async () => {
    expect(await loadError(gtDoc(), [good, good, { ...good, bbox: [0, 0, 0, 5] }])).toMatch(
      /dt\.json: \[2\]: bbox \[0,0,0,5\] has width 0/,
    );
    const doc = gtDoc();
    doc.annotations[0].bbox = [0, 0, 5, -3];
    expect(await loadError(doc, [good])).toMatch(
      /gt\.json: annotations\[0\] \(id 1\): bbox \[0,0,5,-3\] has height -3/,
    );
  });

  it('NaN scores, as Python writes them (bare NaN) and in memory', async () => {
    const text = `[${JSON.stringify(good)}, {"image_id": 2, "category_id": 1, "bbox": [0, 0, 3, 3], "score": NaN}]`;
    expect(await loadError(gtDoc(), text)).toMatch(/dt\.json: \[1\]: "score" must be a number, found "NaN"/);
    expect(() => evaluateCoco(gtDoc(), [{ ...good, score: Number.NaN }], { dtSource: 'body' })).toThrow(
      /body: \[0\]: "score" is NaN/,
    );
  });

  it('unknown image and category ids', async () => {
    expect(await loadError(gtDoc(), [good, { ...good, image_id: 99 }])).toMatch(
      /dt\.json: \[1\]: image_id 99 is not an image of the ground truth/,
    );
    expect(await loadError(gtDoc(), [{ ...good, category_id: 5 }])).toMatch(
      /dt\.json: \[0\]: category_id 5 is not a category of the ground truth .*gt\.json \(it has 1\)/,
    );
    const doc = gtDoc();
    doc.annotations[1].image_id = 3;
    expect(await loadError(doc, [])).toMatch(
      /gt\.json: annotations\[1\] \(id 2\): image_id 3 is not in "images"/,
    );
  });

  it('swapped files get a hint', async () => {
    const gtPath = write('gt.json', gtDoc());
    const g = await loadCocoDataset(gtPath);
    await expect(loadCocoResults(gtPath, g)).rejects.toThrow(/expected a JSON list of detections/);
  });

  it('the CLI exits 1 with the message on stderr', async () => {
    const gtPath = write('cli-gt.json', gtDoc());
    const dtPath = write('cli-dt.json', [good, { ...good, bbox: [1, 2, -4, 5] }]);
    const r = await runCli(['eval', 'coco', '--gt', gtPath, '--dt', dtPath, '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cli-dt\.json: \[1\]: bbox \[1,2,-4,5\] has width -4/);
    expect(r.stdout).toBe('');
  });
});

describe('VOC bad input', () => {
  const images = [{ id: '000001', objects: [{ name: 'car', bbox: [1, 1, 10, 10] }] }];
  const d = { image_id: '000001', class: 'car', score: 0.5, bbox: [1, 1, 10, 10] };

  it('rejects unknown images, non-finite scores and negative sizes, naming the record', () => {
    expect(() => evaluateVoc(images, [d, { ...d, image_id: '7' }])).toThrow(
      /detections: \[1\]: image "7" is not in/,
    );
    expect(() => evaluateVoc(images, [{ ...d, score: Number.NaN }])).toThrow(
      /\[0\]: "score" must be a finite number/,
    );
    expect(() => evaluateVoc(images, [{ ...d, bbox: [5, 5, 4, 9] }])).toThrow(
      /\[0\]: bbox \[5,5,4,9\] has xmax < xmin/,
    );
    expect(() => evaluateVoc([{ id: 'x', objects: [{ bbox: [1, 1, 2, 2] }] }], [])).toThrow(
      /images\[0\] \("x"\) objects\[0\]: missing "name"/,
    );
  });

  it('reports the line of a bad result file and the object of a bad XML', () => {
    const res = write('comp4_det_test_car.txt', '000001 0.9 1 1 10 10\n000001 high 1 1 10 10\n');
    expect(() => readVocResultFile(res, 'car')).toThrow(
      /comp4_det_test_car\.txt:2: score "high" is not a finite number/,
    );
    const xml = write(
      'a.xml',
      '<annotation><object><name>car</name><bndbox><xmin>5</xmin><ymin>1</ymin><xmax>3</xmax><ymax>9</ymax></bndbox></object></annotation>',
    );
    expect(() => readVocXml(xml)).toThrow(/a\.xml: object 0 \(car\): bndbox \[5,1,3,9\] has negative size/);
    const noBox = write('b.xml', '<annotation><object><name>car</name></object></annotation>');
    expect(() => readVocXml(noBox)).toThrow(/b\.xml: object 0 \(car\): missing <bndbox>/);
    // Truncated: the parser gives a lone "" instead of a list (it failed with "objs.map is not a function").
    const cut = write('c.xml', '<annotation><object>\n');
    expect(() => readVocXml(cut)).toThrow(
      /c\.xml: object 0: empty or malformed <object> \(truncated file\?\)/,
    );
  });

  it('the CLI names a detection on an image outside the image set', async () => {
    const root = join(tmp, 'VOC');
    cpSync(join(repoRoot, 'test', 'fixtures', 'eval', 'voc_public'), root, { recursive: true });
    writeFileSync(join(root, 'results', 'comp4_det_test_car.txt'), '999999 0.9 1 1 10 10\n');
    const r = await runCli([
      'eval',
      'voc',
      '--root',
      root,
      '--dets',
      join(root, 'results', 'comp4_det_test_{cls}.txt'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /comp4_det_test_\{cls\}\.txt: \[\d+\]: image "999999" is not in the evaluated image set/,
    );
  });
});

describe('VOC results with numeric category ids', () => {
  // A set of non-VOC classes: ids must not silently become aeroplane, bicycle, ...
  const root = join(tmp, 'shapes');
  const object = (name: string, box: number[]) =>
    `<object><name>${name}</name><difficult>0</difficult><bndbox><xmin>${box[0]}</xmin><ymin>${box[1]}</ymin><xmax>${box[2]}</xmax><ymax>${box[3]}</ymax></bndbox></object>`;
  mkdirSync(join(root, 'Annotations'), { recursive: true });
  mkdirSync(join(root, 'ImageSets', 'Main'), { recursive: true });
  writeFileSync(
    join(root, 'Annotations', '000001.xml'),
    `<annotation><size><width>64</width><height>64</height></size>${object('circle', [1, 1, 10, 10])}${object('star', [21, 21, 40, 40])}</annotation>`,
  );
  writeFileSync(join(root, 'ImageSets', 'Main', 'test.txt'), '000001\n');
  writeFileSync(join(root, 'classes.txt'), 'star\ncircle\n');
  const dets = write('shapes-dets.json', [
    { image_id: 1, category_id: 2, bbox: [0, 0, 10, 10], score: 0.9 },
    { image_id: 1, category_id: 1, bbox: [20, 20, 20, 20], score: 0.8 },
  ]);

  it('with --root, ids index the classes.txt of the set (as evaluate-detector writes them)', async () => {
    const r = await runCli(['eval', 'voc', '--root', root, '--dets', dets, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const perClass = JSON.parse(r.stdout).per_class;
    expect(Object.keys(perClass).sort()).toEqual(['circle', 'star']);
    for (const ap of Object.values(perClass)) expect(ap).toBeCloseTo(1, 9);
  });

  it('without a class order for them, the CLI asks for --classes instead of scoring 0', async () => {
    const args = ['eval', 'voc', '--annotations', join(root, 'Annotations')];
    args.push('--imageset', join(root, 'ImageSets', 'Main', 'test.txt'), '--dets', dets);
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/shapes-dets\.json: numeric category ids .*VOC's 20 classes.*\(circle, star\)/);
    const given = await runCli([...args, '--classes', 'star,circle', '--json']);
    expect(given.code, given.stderr).toBe(0);
    expect(JSON.parse(given.stdout).mAP).toBeCloseTo(1, 9);
  });
});

describe('VOC semantics on hand-computed cases', () => {
  const gt = [
    {
      id: 'a',
      objects: [
        { name: 'car', bbox: [1, 1, 10, 10] as [number, number, number, number] },
        { name: 'car', bbox: [50, 50, 59, 59] as [number, number, number, number], difficult: 1 },
      ],
    },
  ];
  const det = (bbox: [number, number, number, number], score: number) => ({
    image_id: 'a',
    class: 'car',
    score,
    bbox,
  });

  it('difficult objects are neither hits nor misses', () => {
    const s = evaluateVoc(gt, [det([50, 50, 59, 59], 0.9), det([1, 1, 10, 10], 0.8)], { metric: 'area' });
    expect(s.per_class.car).toBe(1);
    expect(s.details.car.npos).toBe(1);
  });

  it('IoU must be strictly above 0.5, with +1 pixel widths', () => {
    // [1,1,10,5]: 10x5 = 50 px of the 10x10 = 100 px object: IoU exactly 0.5, a miss.
    expect(evaluateVoc(gt, [det([1, 1, 10, 5], 0.9)], { metric: 'area' }).per_class.car).toBe(0);
    expect(evaluateVoc(gt, [det([1, 1, 10, 6], 0.9)], { metric: 'area' }).per_class.car).toBe(1);
  });

  it('a second detection of the same object is a false positive; 11-point vs area', () => {
    const two = [
      { id: 'a', objects: [{ name: 'car', bbox: [1, 1, 10, 10] as [number, number, number, number] }] },
      { id: 'b', objects: [{ name: 'car', bbox: [1, 1, 10, 10] as [number, number, number, number] }] },
    ];
    const dets = [
      det([1, 1, 10, 10], 0.9),
      det([1, 1, 10, 10], 0.8),
      { ...det([1, 1, 10, 10], 0.7), image_id: 'b' },
    ];
    // ranks: TP, FP, TP -> recall .5, .5, 1; precision 1, .5, 2/3
    expect(evaluateVoc(two, dets, { metric: 'area' }).per_class.car).toBeCloseTo(0.5 + 0.5 * (2 / 3), 12);
    expect(evaluateVoc(two, dets, { metric: 'voc07' }).per_class.car).toBeCloseTo(
      (6 * 1 + 5 * (2 / 3)) / 11,
      12,
    );
  });
});
