import { describe, expect, it } from 'vitest';
import {
  cocoResultRecord,
  devkitBox,
  devkitDetectionLine,
  parseImageSet,
  parseVocXml,
} from '../../data/formats/index.js';
import { toCocoResults, toVocLines } from '../../server/formats.js';

// The one home of each file format (data/formats): the VOC annotation parser in both modes, the
// image-set reader, and the result writers the CLI, the evaluator and the server share.

const xml = (objects: string, size = '<size><width>64</width><height>48</height></size>') =>
  `<annotation><filename>a.jpg</filename>${size}${objects}</annotation>`;
const obj = (name: string, box: string, extra = '') =>
  `<object><name>${name}</name>${extra}<bndbox>${box}</bndbox></object>`;
const box = (x1: string, y1: string, x2: string, y2: string) =>
  `<xmin>${x1}</xmin><ymin>${y1}</ymin><xmax>${x2}</xmax><ymax>${y2}</ymax>`;

describe('VOC annotation parser', () => {
  it('reads size, names, flags and coordinates exactly as written, in both modes', () => {
    const text = xml(
      obj(' dog ', box('1', '2', '30.5', '40'), '<difficult>1</difficult>') +
        obj('car', box('5', '6', '7', '8'), '<crowd>1</crowd>'),
    );
    for (const mode of ['strict', 'lenient'] as const) {
      const a = parseVocXml(text, 'a.xml', mode);
      expect(a.filename).toBe('a.jpg');
      expect([a.width, a.height]).toEqual([64, 48]);
      expect(a.objects).toEqual([
        { name: 'dog', box: [1, 2, 30.5, 40], difficult: true, crowd: false },
        { name: 'car', box: [5, 6, 7, 8], difficult: false, crowd: true },
      ]);
    }
  });

  it('strict mode refuses a malformed object, naming the file and the object', () => {
    expect(() => parseVocXml(xml(obj('', box('1', '1', '2', '2'))), 'b.xml', 'strict')).toThrow(
      /b\.xml: object 0: missing <name>/,
    );
    expect(() => parseVocXml(xml('<object><name>car</name></object>'), 'c.xml', 'strict')).toThrow(
      /c\.xml: object 0 \(car\): missing <bndbox>/,
    );
    expect(() => parseVocXml(xml(obj('car', box('1', 'x', '2', '2'))), 'd.xml', 'strict')).toThrow(
      /d\.xml: object 0: bndbox ymin is "x"/,
    );
    expect(() => parseVocXml('<annotation><object>', 'e.xml', 'strict')).toThrow(/e\.xml: object 0: empty/);
  });

  it('lenient mode keeps such objects for the dataset to report one by one', () => {
    const a = parseVocXml(
      xml(obj('', box('1', 'x', '2', '2')) + obj('car', box('1', '1', '9', '9')), ''),
      'f.xml',
      'lenient',
    );
    expect(Number.isNaN(a.width)).toBe(true);
    expect(a.objects[0].name).toBe('');
    expect(Number.isNaN(a.objects[0].box[1])).toBe(true);
    expect(a.objects[1].box).toEqual([1, 1, 9, 9]);
  });

  it('both modes refuse a file that is not an annotation', () => {
    for (const mode of ['strict', 'lenient'] as const) {
      expect(() => parseVocXml('<foo/>', 'g.xml', mode)).toThrow(/g\.xml: no <annotation> element/);
    }
  });
});

describe('image sets', () => {
  it('take the first token of each non-empty line (plain and per-class lists)', () => {
    expect(parseImageSet('000005\r\n  000007  1\n\n2008_000123 -1\n')).toEqual([
      '000005',
      '000007',
      '2008_000123',
    ]);
  });
});

describe('result writers', () => {
  const sub = { box: [10.2, 20, 10.7, 20.5], score: 0.9, labelIndex: 1, label: 'car' };

  it('devkit boxes are 1-based and never have xmax < xmin', () => {
    expect(devkitBox([0, 0, 64, 48])).toEqual([1, 1, 64, 48]);
    const b = devkitBox(sub.box);
    expect(b[2]).toBeGreaterThanOrEqual(b[0]);
    expect(b[3]).toBeGreaterThanOrEqual(b[1]);
    expect(devkitDetectionLine('000001', sub)).toBe('000001 0.900000 11.2 21.0 11.2 21.0');
  });

  it('the server writes the same devkit lines as evaluate-detector (a sub-pixel box too)', () => {
    // Before data/formats the server wrote "11.2 21.0 10.7 20.5" here: xmax < xmin.
    const lines = toVocLines([sub as never], '000001');
    expect(lines).toEqual({ car: [devkitDetectionLine('000001', sub)] });
  });

  it('COCO records: [x, y, w, h] at 0.01 px, scores at 1e-5, dataset category ids', () => {
    const d = { box: [1.234, 2.345, 11.239, 22.5], score: 0.123456, labelIndex: 2 };
    expect(cocoResultRecord(7, d)).toEqual({
      image_id: 7,
      category_id: 3,
      bbox: [1.23, 2.35, 10.01, 20.16],
      score: 0.12346,
    });
    expect(cocoResultRecord('x', d, [1, 5, 9]).category_id).toBe(9);
    expect(toCocoResults([{ ...d, label: 'c' } as never], 7)).toEqual([cocoResultRecord(7, d)]);
  });
});
