import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pilResizeBilinear, shortestEdgeSize } from '../../data/image/pil-resize.js';
import { repoRoot } from '../helpers/cli.js';

// Pillow 9.4's Image.resize(BILINEAR) of a seeded image (test/fixtures/pil-resize/generate.py).
const fx = JSON.parse(readFileSync(join(repoRoot, 'test/fixtures/pil-resize/expected.json'), 'utf8')) as {
  width: number;
  height: number;
  input: number[];
  resized: { width: number; height: number; rgb: number[] }[];
};

describe('pilResizeBilinear', () => {
  const input = Uint8Array.from(fx.input);
  for (const r of fx.resized) {
    it(`equals Pillow byte for byte, ${fx.width}x${fx.height} -> ${r.width}x${r.height}`, () => {
      const got = pilResizeBilinear(input, fx.width, fx.height, r.width, r.height);
      expect(got.length).toBe(r.rgb.length);
      let differing = 0;
      for (let i = 0; i < got.length; i++) if (got[i] !== r.rgb[i]) differing++;
      expect(differing).toBe(0);
    });
  }
});

describe('shortestEdgeSize', () => {
  it("is detectron2's ResizeShortestEdge(800, 1333) rule", () => {
    // values from detectron2's get_output_shape
    expect(shortestEdgeSize(640, 480, 800, 1333)).toEqual([1067, 800]);
    expect(shortestEdgeSize(640, 427, 800, 1333)).toEqual([1199, 800]);
    expect(shortestEdgeSize(1000, 300, 800, 1333)).toEqual([1333, 400]);
    expect(shortestEdgeSize(300, 1000, 800, 1333)).toEqual([400, 1333]);
    expect(shortestEdgeSize(500, 500, 800, 1333)).toEqual([800, 800]);
  });
});
