/**
 * COCO masks as run-length codes, with the semantics of pycocotools' `mask` module (maskApi.c):
 * column-major runs (pixel (x, y) is x*h + y) alternating 0, 1, 0, ... from a zero run that may
 * be empty; the compressed `counts` string; polygon and box rasterization on a 5x finer grid;
 * merge, area, toBbox and IoU with crowd flags. Written from the C sources' behaviour, integer
 * arithmetic included (uint32 wrap-around, truncation toward zero), because AP moves with every
 * pixel a rasterizer adds or drops.
 */
import { ResdetError } from '../../core/errors.js';

/** A compressed RLE as COCO files hold it: size [h, w], counts the LEB-style string. */
export interface CocoRle {
  size: [number, number];
  counts: string;
}

/** An uncompressed RLE as COCO crowd annotations hold it: counts as a list of run lengths. */
export interface CocoUncompressedRle {
  size: [number, number];
  counts: number[];
}

/** A polygon [x0, y0, x1, y1, ...] in pixel coordinates; Float64Array for compact storage. */
export type CocoPolygon = ArrayLike<number>;

/** A decoded RLE: the run lengths as uint32, as maskApi's RLE struct. */
export interface Rle {
  h: number;
  w: number;
  counts: Uint32Array;
  /** rleArea and rleToBbox once computed (rleAreaCached, rleBoxCached). */
  area?: number;
  box?: Float64Array;
}

/** A segmentation as COCO files write it. */
export type CocoSegmentation = CocoRle | CocoUncompressedRle | CocoPolygon[];

function rle(h: number, w: number, counts: ArrayLike<number>): Rle {
  return { h, w, counts: Uint32Array.from(counts) };
}

// ---------------------------------------------------------------------------------------------
// The counts string: 5 bits per character (+48), 0x20 = more to come, 0x10 of the last group is
// the sign; values after the third are deltas to the value two before.

/** maskApi rleFrString; `source` names the record in the error for a character outside 0..o. */
export function rleFrString(s: string, h: number, w: number, source = 'RLE'): Rle {
  // Every value ends at a character without the 0x20 (more) bit: count them to size the runs.
  const len = s.length;
  let m = 0;
  for (let p = 0; p < len; p++) {
    const c = s.charCodeAt(p) - 48;
    if (c < 0 || c > 63)
      throw new ResdetError(
        `${source}: RLE counts string holds ${JSON.stringify(s[p])}, not a COCO RLE character ('0'..'o')`,
      );
    if (!(c & 0x20)) m++;
  }
  if (len > 0 && (s.charCodeAt(len - 1) - 48) & 0x20)
    throw new ResdetError(`${source}: RLE counts string ends inside a value`);
  const cnts = new Uint32Array(m);
  let p = 0;
  for (let i = 0; i < m; i++) {
    let x = 0;
    let scale = 1;
    let c: number;
    do {
      c = s.charCodeAt(p++) - 48;
      x += (c & 0x1f) * scale;
      scale *= 32;
    } while (c & 0x20);
    if (c & 0x10) x -= scale;
    if (i > 2) x += cnts[i - 2];
    cnts[i] = x >>> 0;
  }
  return { h, w, counts: cnts };
}

/** Large masks make long strings: built in slices, as fromCharCode takes a bounded argument list. */
function codesToString(codes: number[]): string {
  let s = '';
  for (let i = 0; i < codes.length; i += 8192) s += String.fromCharCode(...codes.slice(i, i + 8192));
  return s;
}

/** maskApi rleToString. */
export function rleToString(r: Rle): string {
  const cnts = r.counts;
  const out: number[] = [];
  for (let i = 0; i < cnts.length; i++) {
    let x = cnts[i];
    if (i > 2) x -= cnts[i - 2];
    let more = true;
    while (more) {
      let c = x & 0x1f;
      x = Math.floor(x / 32);
      more = c & 0x10 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      out.push(c + 48);
    }
  }
  return codesToString(out);
}

export function toCompressed(r: Rle): CocoRle {
  return { size: [r.h, r.w], counts: rleToString(r) };
}

// ---------------------------------------------------------------------------------------------
// Encoding, decoding, merge, area, bbox.

/** maskApi rleEncode of one column-major h*w mask (any non-zero byte is foreground). */
export function rleEncode(mask: ArrayLike<number>, h: number, w: number): Rle {
  const a = h * w;
  if (mask.length < a) throw new ResdetError(`mask has ${mask.length} values, expected h*w = ${a}`);
  const cnts: number[] = [];
  let p = 0;
  let c = 0;
  for (let j = 0; j < a; j++) {
    const v = mask[j] ? 1 : 0;
    if (v !== p) {
      cnts.push(c);
      c = 0;
      p = v;
    }
    c++;
  }
  cnts.push(c);
  return rle(h, w, cnts);
}

/** maskApi rleDecode: the column-major 0/1 mask. */
export function rleDecode(r: Rle): Uint8Array {
  const out = new Uint8Array(r.h * r.w);
  let i = 0;
  let v = 0;
  for (let j = 0; j < r.counts.length; j++) {
    const n = r.counts[j];
    if (v) out.fill(1, i, Math.min(i + n, out.length));
    i += n;
    v = v ? 0 : 1;
  }
  return out;
}

/** maskApi rleMerge: union, or intersection when `intersect`; sizes that differ give an empty RLE. */
export function rleMerge(rs: readonly Rle[], intersect = false): Rle {
  const n = rs.length;
  if (n === 0) return rle(0, 0, []);
  let { h, w } = rs[0];
  if (n === 1) return rle(h, w, rs[0].counts);
  let cnts: number[] = Array.from(rs[0].counts);
  for (let i = 1; i < n; i++) {
    const B = rs[i];
    if (B.h !== h || B.w !== w) {
      h = 0;
      w = 0;
      cnts = [];
      break;
    }
    const A = cnts;
    const out: number[] = [];
    let ca = A[0];
    let cb = B.counts[0];
    let v = false;
    let va = false;
    let vb = false;
    let a = 1;
    let b = 1;
    let cc = 0;
    let ct = 1;
    while (ct > 0) {
      const c = Math.min(ca, cb);
      cc += c;
      ct = 0;
      ca -= c;
      if (!ca && a < A.length) {
        ca = A[a++];
        va = !va;
      }
      ct += ca;
      cb -= c;
      if (!cb && b < B.counts.length) {
        cb = B.counts[b++];
        vb = !vb;
      }
      ct += cb;
      const vp: boolean = v;
      v = intersect ? va && vb : va || vb;
      if (v !== vp || ct === 0) {
        out.push(cc);
        cc = 0;
      }
    }
    cnts = out;
  }
  return rle(h, w, cnts);
}

/** rleArea, computed once per RLE object (kept on it: a WeakMap of 500k masks costs GC time). */
export function rleAreaCached(r: Rle): number {
  r.area ??= rleArea(r);
  return r.area;
}

/** rleToBbox, computed once per RLE object. */
export function rleBoxCached(r: Rle): Float64Array {
  r.box ??= rleToBbox(r, new Float64Array(4)) as Float64Array;
  return r.box;
}

/** maskApi rleArea: the number of 1-pixels. */
export function rleArea(r: Rle): number {
  let a = 0;
  for (let j = 1; j < r.counts.length; j += 2) a += r.counts[j];
  return a >>> 0;
}

/**
 * maskApi rleToBbox: [x, y, w, h] of the 1-pixels, [0, 0, 0, 0] when empty. Unsigned 32-bit
 * arithmetic as in C (a zero-length first 1-run wraps around there, and here).
 */
export function rleToBbox(r: Rle, out: Float64Array | number[] = new Float64Array(4), o = 0): typeof out {
  const h = r.h >>> 0;
  const w = r.w >>> 0;
  const m = Math.floor(r.counts.length / 2) * 2;
  let xs = w;
  let ys = h;
  let xe = 0;
  let ye = 0;
  let cc = 0;
  let xp = 0;
  if (m === 0) {
    out[o] = out[o + 1] = out[o + 2] = out[o + 3] = 0;
    return out;
  }
  for (let j = 0; j < m; j++) {
    cc = (cc + r.counts[j]) >>> 0;
    const t = (cc - (j % 2)) >>> 0;
    // One division: x = floor(t / h), y = t - x*h (corrected where t / h rounds across).
    let x = h === 0 ? 0 : Math.floor(t / h);
    let y = h === 0 ? 0 : t - x * h;
    if (y < 0) {
      x--;
      y += h;
    } else if (y >= h && h > 0) {
      x++;
      y -= h;
    }
    if (j % 2 === 0) xp = x;
    else if (xp < x) {
      ys = 0;
      ye = (h - 1) >>> 0;
    }
    xs = Math.min(xs, x);
    xe = Math.max(xe, x);
    ys = Math.min(ys, y);
    ye = Math.max(ye, y);
  }
  out[o] = xs;
  out[o + 2] = (xe - xs + 1) >>> 0;
  out[o + 1] = ys;
  out[o + 3] = (ye - ys + 1) >>> 0;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Rasterization: polygons and boxes.

// Scratch buffers of rleFrPoly, grown as needed: GT files hold ~10^5 polygons.
let polyU = new Int32Array(4096);
let polyV = new Int32Array(4096);
let polyA = new Uint32Array(4096);

/** maskApi rleFrPoly for a polygon of k = floor(xy.length / 2) vertices on an h x w image. */
export function rleFrPoly(xy: ArrayLike<number>, h: number, w: number): Rle {
  const k = Math.floor(xy.length / 2);
  const scale = 5;
  const x = new Int32Array(k + 1);
  const y = new Int32Array(k + 1);
  for (let j = 0; j < k; j++) x[j] = Math.trunc(scale * xy[j * 2] + 0.5);
  for (let j = 0; j < k; j++) y[j] = Math.trunc(scale * xy[j * 2 + 1] + 0.5);
  x[k] = x[0];
  y[k] = y[0];
  let m = 0;
  for (let j = 0; j < k; j++) m += Math.max(Math.abs(x[j] - x[j + 1]), Math.abs(y[j] - y[j + 1])) + 1;
  if (m > polyU.length) {
    polyU = new Int32Array(m * 2);
    polyV = new Int32Array(m * 2);
    polyA = new Uint32Array(m * 2 + 1);
  }
  const u = polyU;
  const v = polyV;
  m = 0;
  for (let j = 0; j < k; j++) {
    let xs = x[j];
    let xe = x[j + 1];
    let ys = y[j];
    let ye = y[j + 1];
    const dx = Math.abs(xe - xs);
    const dy = Math.abs(ys - ye);
    const flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
    if (flip) {
      let t = xs;
      xs = xe;
      xe = t;
      t = ys;
      ys = ye;
      ye = t;
    }
    // 0/0 for a zero-length edge: its one point never starts a column change (see below).
    const s = dx >= dy ? (ye - ys) / dx : (xe - xs) / dy;
    if (dx >= dy) {
      for (let d = 0; d <= dx; d++) {
        const t = flip ? dx - d : d;
        u[m] = t + xs;
        v[m] = Math.trunc(ys + s * t + 0.5) | 0;
        m++;
      }
    } else {
      for (let d = 0; d <= dy; d++) {
        const t = flip ? dy - d : d;
        v[m] = t + ys;
        u[m] = Math.trunc(xs + s * t + 0.5) | 0;
        m++;
      }
    }
  }
  // Boundary points where the upsampled x crosses a pixel column, downsampled, as run starts.
  const a = polyA;
  let nb = 0;
  for (let j = 1; j < m; j++) {
    if (u[j] === u[j - 1]) continue;
    let xd = u[j] < u[j - 1] ? u[j] : u[j] - 1;
    xd = (xd + 0.5) / scale - 0.5;
    if (Math.floor(xd) !== xd || xd < 0 || xd > w - 1) continue;
    let yd = v[j] < v[j - 1] ? v[j] : v[j - 1];
    yd = (yd + 0.5) / scale - 0.5;
    if (yd < 0) yd = 0;
    else if (yd > h) yd = h;
    yd = Math.ceil(yd);
    a[nb++] = (xd * h + yd) >>> 0;
  }
  a[nb] = (h * w) >>> 0;
  const sorted = a.subarray(0, nb + 1).sort();
  let p = 0;
  for (let j = 0; j <= nb; j++) {
    const t = sorted[j];
    sorted[j] = (sorted[j] - p) >>> 0;
    p = t;
  }
  // Zero-length runs are merged away: a 0 joins its neighbours' counts.
  const b = new Uint32Array(nb + 1);
  let nbOut = 0;
  b[nbOut++] = sorted[0];
  let j = 1;
  while (j <= nb) {
    if (sorted[j] > 0) b[nbOut++] = sorted[j++];
    else {
      j++;
      if (j <= nb) b[nbOut - 1] += sorted[j++];
    }
  }
  return { h, w, counts: b.slice(0, nbOut) };
}

/** maskApi rleFrBbox: the box [x, y, w, h] rasterized as its 4-corner polygon. */
export function rleFrBbox(bb: ArrayLike<number>, h: number, w: number): Rle {
  const xs = bb[0];
  const xe = xs + bb[2];
  const ys = bb[1];
  const ye = ys + bb[3];
  return rleFrPoly([xs, ys, xs, ye, xe, ye, xe, ys], h, w);
}

// ---------------------------------------------------------------------------------------------
// IoU.

/** maskApi bbIou for one pair: intersection over union, over the detection's area for a crowd GT. */
export function bboxIou(d: ArrayLike<number>, g: ArrayLike<number>, crowd: boolean, di = 0, gi = 0): number {
  const dw = d[di + 2];
  const dh = d[di + 3];
  const gw = g[gi + 2];
  const gh = g[gi + 3];
  const iw = Math.min(dw + d[di], gw + g[gi]) - Math.max(d[di], g[gi]);
  if (iw <= 0) return 0;
  const ih = Math.min(dh + d[di + 1], gh + g[gi + 1]) - Math.max(d[di + 1], g[gi + 1]);
  if (ih <= 0) return 0;
  const i = iw * ih;
  const da = dw * dh;
  return i / (crowd ? da : da + gw * gh - i);
}

/**
 * maskApi rleIou for one pair, given both masks' boxes (rleToBbox) and the detection's area:
 * 0 when the boxes do not overlap, -1 when the sizes differ, else |d & g| / |d | g| (over |d|
 * for a crowd GT; 0 when the intersection is empty).
 */
export function rlePairIou(
  d: Rle,
  g: Rle,
  crowd: boolean,
  dBox: ArrayLike<number>,
  gBox: ArrayLike<number>,
  dArea: number,
  di = 0,
  gi = 0,
): number {
  if (!(bboxIou(dBox, gBox, crowd, di, gi) > 0)) return 0;
  if (d.h !== g.h || d.w !== g.w) return -1;
  // Only the intersection is walked: both masks cover the same h*w pixels, so the union
  // maskApi counts run by run is |d| + |g| - |d & g| (integers, exact), and the walk stops
  // at the end of either mask's last 1-run.
  const dc = d.counts;
  const gc = g.counts;
  const ka = dc.length;
  const kb = gc.length;
  if (ka < 2 || kb < 2) return 0;
  // [as, ae) and [bs, be): the current 1-runs; na, nb: index of the 0-run after each.
  let as = dc[0];
  let ae = as + dc[1];
  let na = 2;
  let bs = gc[0];
  let be = bs + gc[1];
  let nb = 2;
  let inter = 0;
  for (;;) {
    const lo = as > bs ? as : bs;
    const hi = ae < be ? ae : be;
    if (hi > lo) inter += hi - lo;
    if (ae <= be) {
      if (na + 1 >= ka) break;
      as = ae + dc[na];
      ae = as + dc[na + 1];
      na += 2;
    } else {
      if (nb + 1 >= kb) break;
      bs = be + gc[nb];
      be = bs + gc[nb + 1];
      nb += 2;
    }
  }
  if (inter === 0) return 0;
  return inter / (crowd ? dArea : dArea + rleAreaCached(g) - inter);
}

/** maskApi rleIou: ious[d][g] for every detection and GT mask. */
export function rleIou(
  dt: readonly Rle[],
  gt: readonly Rle[],
  iscrowd: ArrayLike<number | boolean>,
): number[][] {
  const db = new Float64Array(dt.length * 4);
  const gb = new Float64Array(gt.length * 4);
  dt.forEach((r, i) => {
    rleToBbox(r, db, i * 4);
  });
  gt.forEach((r, i) => {
    rleToBbox(r, gb, i * 4);
  });
  const areas = dt.map(rleArea);
  return dt.map((d, i) =>
    gt.map((g, j) => rlePairIou(d, g, Boolean(iscrowd[j]), db, gb, areas[i], i * 4, j * 4)),
  );
}

// ---------------------------------------------------------------------------------------------
// pycocotools.mask's public functions on COCO-format objects.

function isRleObject(v: unknown): v is { size: unknown; counts: unknown } {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && 'counts' in v && 'size' in v;
}

function checkedSize(size: unknown, source: string): [number, number] {
  if (
    !Array.isArray(size) ||
    size.length !== 2 ||
    !size.every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 0)
  )
    throw new ResdetError(`${source}: RLE "size" must be [height, width], found ${JSON.stringify(size)}`);
  return [size[0], size[1]];
}

/**
 * An RLE from a COCO RLE object, compressed (counts a string) or not (counts a list whose sum
 * must be h*w). `source` names the record in errors.
 */
export function rleFromObject(obj: unknown, source = 'RLE'): Rle {
  if (!isRleObject(obj))
    throw new ResdetError(
      `${source}: expected an RLE {"size": [h, w], "counts": ...}, found ${describe(obj)}`,
    );
  const [h, w] = checkedSize(obj.size, source);
  const counts = obj.counts;
  if (counts instanceof Uint32Array) {
    const r = { h, w, counts };
    checkRunSum(r, source);
    return r;
  }
  if (typeof counts === 'string') {
    const r = rleFrString(counts, h, w, source);
    checkRunSum(r, source);
    return r;
  }
  if (!Array.isArray(counts))
    throw new ResdetError(`${source}: RLE "counts" must be a string or a list of run lengths`);
  const c = new Uint32Array(counts.length);
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0)
      throw new ResdetError(`${source}: RLE counts[${i}] is ${JSON.stringify(n)}, not a run length`);
    c[i] = n;
  }
  const r = { h, w, counts: c };
  checkRunSum(r, source);
  return r;
}

function checkRunSum(r: Rle, source: string): void {
  let sum = 0;
  for (let i = 0; i < r.counts.length; i++) sum += r.counts[i];
  if (sum !== r.h * r.w)
    throw new ResdetError(
      `${source}: RLE counts sum to ${sum}, but size [${r.h}, ${r.w}] has h*w = ${r.h * r.w} pixels`,
      'the runs must cover the whole image, column by column',
    );
}

function describe(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** A polygon's coordinates checked: an even number (>= 6) of finite numbers. */
export function checkedPolygon(p: unknown, source: string): Float64Array {
  if (!Array.isArray(p) && !ArrayBuffer.isView(p))
    throw new ResdetError(`${source}: a polygon must be a list [x0, y0, x1, y1, ...], found ${describe(p)}`);
  const a = p as ArrayLike<unknown>;
  if (a.length % 2 !== 0)
    throw new ResdetError(
      `${source}: polygon has an odd number of coordinates (${a.length}); it must be x, y pairs`,
    );
  if (a.length < 6)
    throw new ResdetError(
      `${source}: polygon has ${a.length / 2} point(s); at least 3 are needed (pycocotools cannot rasterize fewer)`,
    );
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new ResdetError(`${source}: polygon coordinate ${i} is ${describe(v)}, not a finite number`);
    out[i] = v;
  }
  return out;
}

/**
 * pycocotools.mask.frPyObjects: a list of polygons gives one RLE per polygon; a list of boxes
 * [x, y, w, h] one RLE per box; a list of uncompressed RLEs one RLE each; a single polygon, box
 * or uncompressed RLE gives one RLE. As in pycocotools, a list whose first element has 4 numbers
 * is read as boxes.
 */
export function frPyObjects(obj: unknown, h: number, w: number): CocoRle | CocoRle[] {
  if (Array.isArray(obj) && obj.length > 0) {
    const first = obj[0];
    if (Array.isArray(first) || ArrayBuffer.isView(first)) {
      const f = first as ArrayLike<number>;
      if (f.length === 4) return obj.map((b) => toCompressed(rleFrBbox(b as number[], h, w)));
      return obj.map((p) => toCompressed(rleFrPoly(p as ArrayLike<number>, h, w)));
    }
    if (isRleObject(first)) return obj.map((r) => toCompressed(rleFromUncompressed(r)));
    if (obj.length === 4) return toCompressed(rleFrBbox(obj as number[], h, w));
    if (obj.length > 4) return toCompressed(rleFrPoly(obj as number[], h, w));
  } else if (isRleObject(obj)) return toCompressed(rleFromUncompressed(obj));
  throw new ResdetError('frPyObjects: input type is not supported (polygons, boxes or uncompressed RLEs)');
}

/** pycocotools frUncompressedRLE: counts taken as uint32 runs without checking their sum. */
function rleFromUncompressed(obj: { size: unknown; counts: unknown }): Rle {
  const [h, w] = checkedSize(obj.size, 'RLE');
  if (!Array.isArray(obj.counts))
    throw new ResdetError('frPyObjects: uncompressed RLE counts must be a list');
  return rle(h, w, obj.counts as number[]);
}

/** pycocotools.mask.encode of one column-major (Fortran-order) h x w mask. */
export function encode(maskFortran: ArrayLike<number>, h: number, w: number): CocoRle {
  return toCompressed(rleEncode(maskFortran, h, w));
}

/** pycocotools.mask.decode: the column-major mask of one RLE. */
export function decode(r: CocoRle): Uint8Array {
  return rleDecode(rleFrString(r.counts, r.size[0], r.size[1]));
}

/** pycocotools.mask.merge: union (or intersection) of compressed RLEs. */
export function merge(rs: readonly CocoRle[], intersect = false): CocoRle {
  return toCompressed(rleMerge(rs.map(fromCompressed), intersect));
}

/** pycocotools.mask.area. */
export function area(rs: readonly CocoRle[]): number[] {
  return rs.map((r) => rleArea(fromCompressed(r)));
}

/** pycocotools.mask.toBbox: [x, y, w, h] per RLE. */
export function toBbox(rs: readonly CocoRle[]): number[][] {
  return rs.map((r) => Array.from(rleToBbox(fromCompressed(r))));
}

/**
 * pycocotools.mask.iou: ious[d][g]; masks (compressed RLEs) or boxes ([x, y, w, h]) on both
 * sides; [] when either side is empty.
 */
export function iou(
  dt: readonly CocoRle[] | readonly number[][],
  gt: readonly CocoRle[] | readonly number[][],
  iscrowd: ArrayLike<number | boolean>,
): number[][] {
  if (dt.length === 0 || gt.length === 0) return [];
  const boxes = Array.isArray(dt[0]);
  if (boxes !== Array.isArray(gt[0]))
    throw new ResdetError('iou: dt and gt must both be RLEs or both be boxes');
  if (boxes) {
    const d = dt as number[][];
    const g = gt as number[][];
    return d.map((db) => g.map((gb, j) => bboxIou(db, gb, Boolean(iscrowd[j]))));
  }
  return rleIou((dt as CocoRle[]).map(fromCompressed), (gt as CocoRle[]).map(fromCompressed), iscrowd);
}

export function fromCompressed(r: CocoRle): Rle {
  return rleFrString(r.counts, r.size[0], r.size[1]);
}
