import { toNested } from './boxes.js';

/** The paper's anchors: 3 sizes x 3 aspect ratios (height / width) at stride 16. */
export const DEFAULT_ANCHOR_SIZES: readonly number[] = [128, 256, 512];
export const DEFAULT_ASPECT_RATIOS: readonly number[] = [0.5, 1, 2];

/** Round half to even, as torch.round. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Cell-anchor layout: torchvision's (ratio-major, rounded) or detectron2's (size-major, exact). */
export interface CellAnchorLayout {
  order: 'ratio-major' | 'size-major';
  round: boolean;
}

const TORCHVISION_LAYOUT: CellAnchorLayout = { order: 'ratio-major', round: true };

/**
 * Zero-centred cell anchors, flat [A * 4]. torchvision's AnchorGenerator (the default): ratio-major
 * then size-minor, in float32, h = sqrt(r) * s, w = s / sqrt(r), rounded half to even.
 * detectron2's DefaultAnchorGenerator (`size-major`, unrounded): sizes outer, ratios inner, in
 * double, w = sqrt(s^2 / r), h = r * w, then stored as float32.
 */
export function cellAnchorsFlat(
  sizes: readonly number[] = DEFAULT_ANCHOR_SIZES,
  aspectRatios: readonly number[] = DEFAULT_ASPECT_RATIOS,
  layout: CellAnchorLayout = TORCHVISION_LAYOUT,
): Float32Array {
  const out = new Float32Array(sizes.length * aspectRatios.length * 4);
  let k = 0;
  if (layout.order === 'size-major') {
    for (const size of sizes) {
      for (const ratio of aspectRatios) {
        const w = Math.sqrt((size * size) / ratio);
        const h = ratio * w;
        const box = [-w / 2, -h / 2, w / 2, h / 2];
        for (const v of box) out[k++] = layout.round ? roundHalfEven(Math.fround(v)) : v;
      }
    }
    return out;
  }
  for (const ratio of aspectRatios) {
    const hRatio = Math.fround(Math.sqrt(Math.fround(ratio)));
    const wRatio = Math.fround(1 / hRatio);
    for (const size of sizes) {
      const w = Math.fround(wRatio * Math.fround(size));
      const h = Math.fround(hRatio * Math.fround(size));
      const box = [-w / 2, -h / 2, w / 2, h / 2].map(Math.fround);
      for (const v of box) out[k++] = layout.round ? roundHalfEven(v) : v;
    }
  }
  return out;
}

/**
 * Anchors over a feature map: row y, then column x, then the A cell anchors, each shifted by
 * (x * strideW, y * strideH) with no half-stride offset, unclipped. Flat [H * W * A * 4].
 */
export function gridAnchorsFlat(
  cell: Float32Array,
  featureHeight: number,
  featureWidth: number,
  strideH: number,
  strideW: number,
): Float32Array {
  const a = cell.length / 4;
  const out = new Float32Array(featureHeight * featureWidth * a * 4);
  let k = 0;
  for (let y = 0; y < featureHeight; y++) {
    const sy = y * strideH;
    for (let x = 0; x < featureWidth; x++) {
      const sx = x * strideW;
      for (let j = 0; j < cell.length; j += 4) {
        out[k++] = sx + cell[j];
        out[k++] = sy + cell[j + 1];
        out[k++] = sx + cell[j + 2];
        out[k++] = sy + cell[j + 3];
      }
    }
  }
  return out;
}

/** One list per feature map in torchvision (`((128, 256, 512),)`); a flat list means the one map. */
export type LevelValues = readonly number[] | readonly (readonly number[])[];

export interface AnchorOptions {
  /** Feature map [height, width]. */
  featureMapHw: readonly [number, number] | readonly number[];
  /** Stride [h, w] or one number; default: imageHw // featureMapHw (torchvision's rule), else 16. */
  stride?: number | readonly number[];
  /** Padded image [height, width], used to derive the stride when it is not given. */
  imageHw?: readonly number[];
  sizes?: LevelValues;
  aspectRatios?: LevelValues;
}

/** The fixtures' snake_case names, accepted as well (a fixture case can be passed as it is). */
export interface AnchorOptionsSnake {
  feature_map_hw: readonly number[];
  stride?: number | readonly number[];
  image_hw?: readonly number[];
  sizes?: LevelValues;
  aspect_ratios?: LevelValues;
}

/**
 * All anchors, [H * W * A][4] in (y, x, a) order, as an array of [x1, y1, x2, y2]; the same array
 * is reachable as `.anchors`, and the zero-centred cell anchors [A][4] as `.cellAnchors` (both
 * non-enumerable, so the result compares equal to a plain list of anchors).
 */
export type Anchors = number[][] & {
  readonly anchors: number[][];
  readonly cellAnchors: number[][];
};

function normalizeOptions(o: AnchorOptions | AnchorOptionsSnake): AnchorOptions {
  if ('feature_map_hw' in o) {
    return {
      featureMapHw: o.feature_map_hw,
      stride: o.stride,
      imageHw: o.image_hw,
      sizes: o.sizes,
      aspectRatios: o.aspect_ratios,
    };
  }
  return o;
}

/**
 * Sizes or ratios as a flat list; torchvision's per-level form `((32, 64),)` is accepted for the
 * single feature map this generator covers.
 */
function oneLevel(values: LevelValues, name: string): readonly number[] {
  if (!values.some((v) => Array.isArray(v))) return values as readonly number[];
  if (values.length !== 1 || !Array.isArray(values[0]))
    throw new Error(`generateAnchors: ${name} has ${values.length} levels; pass the one feature map's list`);
  return values[0] as readonly number[];
}

/**
 * torchvision's AnchorGenerator on one feature map. Call with an options object
 * (`{featureMapHw, stride | imageHw, sizes, aspectRatios}`, or the fixtures' snake_case names) or
 * positionally `generateAnchors(featureMapHw, stride, sizes?, aspectRatios?)`.
 */
export function generateAnchors(options: AnchorOptions | AnchorOptionsSnake): Anchors;
export function generateAnchors(
  featureMapHw: readonly number[],
  stride?: number | readonly number[],
  sizes?: LevelValues,
  aspectRatios?: LevelValues,
): Anchors;
export function generateAnchors(
  first: AnchorOptions | AnchorOptionsSnake | readonly number[],
  stride?: number | readonly number[],
  sizes?: LevelValues,
  aspectRatios?: LevelValues,
): Anchors {
  const opts: AnchorOptions = Array.isArray(first)
    ? { featureMapHw: first as readonly number[], stride, sizes, aspectRatios }
    : normalizeOptions(first as AnchorOptions | AnchorOptionsSnake);
  const [fh, fw] = opts.featureMapHw;
  let sh: number;
  let sw: number;
  if (opts.stride !== undefined) {
    [sh, sw] =
      typeof opts.stride === 'number'
        ? [opts.stride, opts.stride]
        : [opts.stride[0], opts.stride[1] ?? opts.stride[0]];
  } else if (opts.imageHw) {
    sh = Math.floor(opts.imageHw[0] / fh);
    sw = Math.floor(opts.imageHw[1] / fw);
  } else {
    sh = 16;
    sw = 16;
  }
  const cell = cellAnchorsFlat(
    oneLevel(opts.sizes ?? DEFAULT_ANCHOR_SIZES, 'sizes'),
    oneLevel(opts.aspectRatios ?? DEFAULT_ASPECT_RATIOS, 'aspectRatios'),
  );
  const anchors = toNested(gridAnchorsFlat(cell, fh, fw, sh, sw), 4);
  Object.defineProperty(anchors, 'anchors', { value: anchors, enumerable: false });
  Object.defineProperty(anchors, 'cellAnchors', { value: toNested(cell, 4), enumerable: false });
  return anchors as Anchors;
}
