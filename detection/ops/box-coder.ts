import { type BoxesLike, likeInput, toFlatBoxes } from './boxes.js';
import { expf } from './expf.js';

export type BoxWeights = readonly [number, number, number, number];

/** The RPN's coder weights: deltas as they are. */
export const RPN_BOX_WEIGHTS: BoxWeights = [1, 1, 1, 1];
/**
 * The Fast R-CNN head's weights: deltas scaled by (10, 10, 5, 5), the same as normalising the
 * targets by std (0.1, 0.1, 0.2, 0.2) as the paper's code does.
 */
export const HEAD_BOX_WEIGHTS: BoxWeights = [10, 10, 5, 5];
/** Upper clamp on decoded dw/dh: an anchor grows at most 1000/16 times. */
export const BBOX_XFORM_CLIP = Math.log(1000 / 16);

/**
 * Encodes each target box against the box at the same row (torchvision's encode_single argument
 * order: targets first, then the anchors/proposals they are relative to). Flat in, flat out.
 */
export function encodeBoxesFlat(
  targets: Float32Array,
  anchors: Float32Array,
  weights: BoxWeights,
): Float32Array {
  const f = Math.fround;
  // torchvision holds the weights in a float32 tensor and rounds every step to float32; with
  // centres near 1e4 and narrow anchors, double intermediates differ by more than 1e-5 relative.
  const [wx, wy, ww, wh] = weights.map(f);
  const out = new Float32Array(targets.length);
  for (let i = 0; i < targets.length; i += 4) {
    const pw = f(anchors[i + 2] - anchors[i]);
    const ph = f(anchors[i + 3] - anchors[i + 1]);
    const pcx = f(anchors[i] + f(0.5 * pw));
    const pcy = f(anchors[i + 1] + f(0.5 * ph));
    const gw = f(targets[i + 2] - targets[i]);
    const gh = f(targets[i + 3] - targets[i + 1]);
    const gcx = f(targets[i] + f(0.5 * gw));
    const gcy = f(targets[i + 1] + f(0.5 * gh));
    out[i] = f(wx * f(gcx - pcx)) / pw;
    out[i + 1] = f(wy * f(gcy - pcy)) / ph;
    out[i + 2] = ww * f(Math.log(f(gw / pw)));
    out[i + 3] = wh * f(Math.log(f(gh / ph)));
  }
  return out;
}

/**
 * Decodes deltas against boxes. `deltas` has 4K numbers per box (K class groups of 4, as the
 * class-specific head's output); the result has the same layout. dw/dh are clamped from above
 * at `clip` after dividing by the weight, as torchvision.
 */
export function decodeBoxesFlat(
  deltas: Float32Array,
  boxes: Float32Array,
  weights: BoxWeights,
  clip = BBOX_XFORM_CLIP,
): Float32Array {
  const f = Math.fround;
  // Every step in float32, as torchvision; the clip is a float32 scalar there too.
  const [wx, wy, ww, wh] = weights.map(f);
  const fclip = f(clip);
  const n = boxes.length / 4;
  const out = new Float32Array(deltas.length);
  if (n === 0) return out;
  const cols = deltas.length / n;
  for (let i = 0; i < n; i++) {
    const w = f(boxes[4 * i + 2] - boxes[4 * i]);
    const h = f(boxes[4 * i + 3] - boxes[4 * i + 1]);
    const cx = f(boxes[4 * i] + f(0.5 * w));
    const cy = f(boxes[4 * i + 1] + f(0.5 * h));
    for (let k = i * cols; k < (i + 1) * cols; k += 4) {
      const dx = f(deltas[k] / wx);
      const dy = f(deltas[k + 1] / wy);
      const dw = Math.min(f(deltas[k + 2] / ww), fclip);
      const dh = Math.min(f(deltas[k + 3] / wh), fclip);
      const pcx = f(f(dx * w) + cx);
      const pcy = f(f(dy * h) + cy);
      const halfW = f(0.5 * f(expf(dw) * w));
      const halfH = f(0.5 * f(expf(dh) * h));
      out[k] = pcx - halfW;
      out[k + 1] = pcy - halfH;
      out[k + 2] = pcx + halfW;
      out[k + 3] = pcy + halfH;
    }
  }
  return out;
}

/**
 * torchvision BoxCoder(weights).encode_single(reference_boxes, proposals): regression targets of
 * `referenceBoxes` (ground truth) relative to `proposals` (anchors). Output in the input's form.
 */
export function encodeBoxes<T extends BoxesLike>(
  referenceBoxes: T,
  proposals: BoxesLike,
  weights: BoxWeights = RPN_BOX_WEIGHTS,
): T {
  const targets = toFlatBoxes(referenceBoxes, 'referenceBoxes');
  const anchors = toFlatBoxes(proposals, 'proposals');
  if (targets.length !== anchors.length)
    throw new Error(`encodeBoxes: ${targets.length / 4} reference boxes but ${anchors.length / 4} proposals`);
  return likeInput(referenceBoxes, encodeBoxesFlat(targets, anchors, weights), 4);
}

/**
 * torchvision BoxCoder(weights).decode_single(rel_codes, boxes): boxes from deltas. `relCodes`
 * may have 4K columns (class-specific deltas), decoded per group of 4. Output in relCodes' form.
 */
export function decodeBoxes<T extends BoxesLike>(
  relCodes: T,
  boxes: BoxesLike,
  weights: BoxWeights = RPN_BOX_WEIGHTS,
  clip = BBOX_XFORM_CLIP,
): T {
  const ref = toFlatBoxes(boxes, 'boxes');
  const n = ref.length / 4;
  const cols = codeColumns(relCodes, n);
  const deltas = toFlatBoxes(relCodes, 'relCodes', cols);
  return likeInput(relCodes, decodeBoxesFlat(deltas, ref, weights, clip), cols);
}

function codeColumns(relCodes: BoxesLike, n: number): number {
  if ('shape' in relCodes && Array.isArray(relCodes.shape)) return relCodes.shape[1] ?? 4;
  if (relCodes instanceof Float32Array) return n > 0 ? relCodes.length / n : 4;
  const first = (relCodes as ArrayLike<ArrayLike<number>>)[0];
  return first ? first.length : 4;
}
