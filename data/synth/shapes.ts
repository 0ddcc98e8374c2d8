import type { Rng } from '../../core/rng.js';
import { type Box, placeFootprints } from './placement.js';
import {
  addNoise,
  type Canvas,
  discCoverage,
  fillCoverage,
  hsvToRgb,
  polygonCoverage,
  texturedBackground,
} from './raster.js';

/** The `shapes` synthetic set's classes, in label order. */
export const SHAPE_CLASSES: readonly string[] = ['circle', 'square', 'triangle', 'star'];

export interface SynthObject {
  /** 1..K */
  label: number;
  /** Tight pixel box [x1, y1, x2, y2], 0-based, exclusive-style. */
  box: Box;
}

export interface SynthImage {
  canvas: Canvas;
  objects: SynthObject[];
}

function regularPolygon(n: number, rotation: number, inner?: number): Array<[number, number]> {
  const pts: Array<[number, number]> = [];
  const steps = inner === undefined ? n : n * 2;
  for (let i = 0; i < steps; i++) {
    const r = inner !== undefined && i % 2 === 1 ? inner : 1;
    const a = rotation + (i * 2 * Math.PI) / steps;
    pts.push([r * Math.cos(a), r * Math.sin(a)]);
  }
  return pts;
}

/** Scales a unit-size outline so its larger extent equals `side` and centres it in the footprint. */
function fitOutline(unit: Array<[number, number]>, fp: Box): Array<[number, number]> {
  const xs = unit.map((p) => p[0]);
  const ys = unit.map((p) => p[1]);
  const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const side = fp[2] - fp[0];
  const s = side / Math.max(maxX - minX, maxY - minY);
  const ox = (fp[0] + fp[2]) / 2 - ((minX + maxX) / 2) * s;
  const oy = (fp[1] + fp[3]) / 2 - ((minY + maxY) / 2) * s;
  return unit.map(([x, y]) => [x * s + ox, y * s + oy]);
}

/** The pixel box of a float extent: every pixel the outline touches. */
function pixelBox(minX: number, minY: number, maxX: number, maxY: number, size: number): Box {
  return [
    Math.max(0, Math.floor(minX)),
    Math.max(0, Math.floor(minY)),
    Math.min(size, Math.ceil(maxX)),
    Math.min(size, Math.ceil(maxY)),
  ];
}

/**
 * One `shapes` image: 1-4 coloured circles, squares, triangles and stars, 15-60% of the side,
 * at random rotations and colours on a textured background, then camera-like noise.
 */
export function renderShapesImage(rng: Rng, size: number): SynthImage {
  const canvas = texturedBackground(rng, size, size);
  const footprints = placeFootprints(rng, { size, count: [1, 4], scale: [0.15, 0.6], maxOverlap: 0.2 });
  const objects: SynthObject[] = [];
  for (const fp of footprints) {
    const label = rng.int(1, SHAPE_CLASSES.length);
    const color = hsvToRgb(rng.next(), rng.uniform(0.55, 1), rng.uniform(0.5, 1));
    const shadeAngle = rng.uniform(0, Math.PI * 2);
    const shade = { dx: Math.cos(shadeAngle), dy: Math.sin(shadeAngle), amount: rng.uniform(0, 0.5) };
    const name = SHAPE_CLASSES[label - 1];
    if (name === 'circle') {
      const r = (fp[2] - fp[0]) / 2;
      const cx = (fp[0] + fp[2]) / 2;
      const cy = (fp[1] + fp[3]) / 2;
      fillCoverage(canvas, fp, color, discCoverage(cx, cy, r), shade);
      objects.push({ label, box: pixelBox(cx - r, cy - r, cx + r, cy + r, size) });
      continue;
    }
    const unit =
      name === 'square'
        ? regularPolygon(4, Math.PI / 4 + rng.uniform(-0.45, 0.45))
        : name === 'triangle'
          ? regularPolygon(3, rng.uniform(0, Math.PI * 2))
          : regularPolygon(5, rng.uniform(0, Math.PI * 2), 0.45);
    const pts = fitOutline(unit, fp);
    const xs = pts.map((p) => p[0]);
    const ys = pts.map((p) => p[1]);
    const box = pixelBox(Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys), size);
    fillCoverage(
      canvas,
      [box[0] - 1, box[1] - 1, box[2] + 1, box[3] + 1],
      color,
      polygonCoverage(pts),
      shade,
    );
    objects.push({ label, box });
  }
  addNoise(canvas, rng, rng.uniform(2, 8));
  return { canvas, objects };
}
