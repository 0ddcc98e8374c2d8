/**
 * A fast reader for COCO results lists straight into typed arrays: 500k detections as JSON
 * objects cost ~1 s of JSON.parse, object allocation and GC, more than evaluating them. This
 * parser walks the bytes once and keeps only the numbers. It accepts only well-formed, valid
 * lists; anything else (a bad record, NaN, odd keys) returns null and the caller takes the
 * general path, whose checks name the record and the problem.
 */
import { type Rle, rleAreaCached, rleBoxCached } from './mask.js';
import type { CocoResult } from './types.js';

/** Detections as columns; bbox is [x, y, w, h] per detection, 4 values each. */
export interface CocoResultArrays {
  n: number;
  imageId: Float64Array;
  categoryId: Float64Array;
  bbox: Float64Array;
  score: Float64Array;
  /** The area that puts an unmatched detection in an area range (default w*h of bbox). */
  area?: Float64Array;
  /** segm: each detection's mask. */
  masks?: Rle[];
  /** keypoints: 3K numbers (x, y, v) per detection. */
  keypoints?: Float64Array;
}

export function isCocoResultArrays(v: unknown): v is CocoResultArrays {
  return v !== null && typeof v === 'object' && (v as CocoResultArrays).bbox instanceof Float64Array;
}

export function resultsToArrays(results: ReadonlyArray<CocoResult>): CocoResultArrays {
  const n = results.length;
  const out: CocoResultArrays = {
    n,
    imageId: new Float64Array(n),
    categoryId: new Float64Array(n),
    bbox: new Float64Array(n * 4),
    score: new Float64Array(n),
  };
  for (let i = 0; i < n; i++) {
    const r = results[i];
    out.imageId[i] = r.image_id;
    out.categoryId[i] = r.category_id;
    out.bbox.set(r.bbox, i * 4);
    out.score[i] = r.score;
  }
  return out;
}

const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

const KEYS = ['image_id', 'category_id', 'bbox', 'score', 'segmentation'].map((k) =>
  Buffer.from(k, 'latin1'),
);
const SIZE = Buffer.from('size', 'latin1');
const COUNTS = Buffer.from('counts', 'latin1');
const WORDS = ['true', 'false', 'null'].map((k) => Buffer.from(k, 'latin1'));

/** The value of the last scanNumber. */
const scanned = new Float64Array(1);

/**
 * Reads the JSON number at buf[i] into scanned[0], as JSON.parse would; returns the index after
 * it, or -1 where the bytes are not a JSON number (or one JSON.parse would reject).
 */
function scanNumber(buf: Uint8Array, i: number): number {
  const len = buf.length;
  const start = i;
  let neg = false;
  if (buf[i] === 0x2d) {
    neg = true;
    i++;
  }
  // JSON forbids leading zeros ("01"); JSON.parse would reject them, so leave them to it.
  if (buf[i] === 0x30 && i + 1 < len && buf[i + 1] >= 0x30 && buf[i + 1] <= 0x39) return -1;
  let mant = 0;
  let sig = 0;
  let exp = 0;
  let digits = 0;
  let c = buf[i];
  while (c >= 0x30 && c <= 0x39) {
    const d = c - 0x30;
    if (sig > 0 || d !== 0) {
      if (sig < 16) mant = mant * 10 + d;
      else exp++;
      sig++;
    }
    digits++;
    c = buf[++i];
  }
  if (digits === 0) return -1;
  if (c === 0x2e) {
    c = buf[++i];
    let frac = 0;
    while (c >= 0x30 && c <= 0x39) {
      const d = c - 0x30;
      if (sig > 0 || d !== 0) {
        if (sig < 16) {
          mant = mant * 10 + d;
          exp--;
        }
        sig++;
      } else exp--;
      frac++;
      c = buf[++i];
    }
    if (frac === 0) return -1;
  }
  const slow = sig > 15;
  if (c === 0x65 || c === 0x45) {
    c = buf[++i];
    let eneg = false;
    if (c === 0x2b || c === 0x2d) {
      eneg = c === 0x2d;
      c = buf[++i];
    }
    let e = 0;
    let ed = 0;
    while (c >= 0x30 && c <= 0x39) {
      if (e < 10000) e = e * 10 + (c - 0x30);
      ed++;
      c = buf[++i];
    }
    if (ed === 0) return -1;
    exp += eneg ? -e : e;
  }
  // Clinger's fast path: an integer below 2^53 times or over an exact power of ten is one
  // correctly rounded operation, so it equals JSON.parse's value. Otherwise let V8 convert.
  if (slow || exp > 22 || exp < -22) {
    scanned[0] = Number(Buffer.from(buf.buffer, buf.byteOffset + start, i - start).toString('latin1'));
    return i;
  }
  const v = exp < 0 ? mant / POW10[-exp] : mant * POW10[exp];
  scanned[0] = neg ? -v : v;
  return i;
}

/** How many values the last decodeCounts wrote. */
const decoded = new Int32Array(1);
const POOL_FULL = -2;

/**
 * Decodes a compressed RLE counts string (buf[i] just after its opening quote) into
 * pool[start...] as rleFrString: 5 bits a character, least significant first, 0x20 = more
 * follow, 0x10 = negative, deltas from the value two back after the first two. Int32 arithmetic
 * for up to 6 characters a value (what any image size needs); longer values, escapes other than
 * a doubled backslash and an unterminated string return -1 (the general path decides). Returns
 * the index after the closing quote, or POOL_FULL (grow the pool, call again).
 */
function decodeCounts(buf: Uint8Array, i: number, pool: Uint32Array, start: number): number {
  const len = buf.length;
  const cap = pool.length;
  let m = 0;
  for (;;) {
    if (i >= len) return -1;
    let c = buf[i++];
    if (c === 0x22) break;
    let x = 0;
    let shift = 0;
    for (;;) {
      if (c === 0x5c) {
        c = buf[i++];
        if (c !== 0x5c) return -1;
      }
      c -= 48;
      if (c < 0 || c > 63 || shift > 25) return -1;
      x |= (c & 0x1f) << shift;
      shift += 5;
      if (!(c & 0x20)) break;
      if (i >= len) return -1;
      c = buf[i++];
      if (c === 0x22) return -1;
    }
    if (c & 0x10) x |= -1 << shift;
    if (m > 2) x += pool[start + m - 2];
    if (start + m >= cap) return POOL_FULL;
    pool[start + m++] = x >>> 0;
  }
  decoded[0] = m;
  return i;
}

class Unsupported extends Error {}
const unsupported = new Unsupported();

/**
 * Parses a JSON results list; null when the input is not a clean, valid list. With `masks`,
 * every result must hold a compressed RLE `segmentation` (decoded straight from the bytes into
 * one shared run buffer) and may hold a `bbox`; as in pycocotools' loadRes, when the first
 * result has a bbox every area is its w*h, else the mask's area, and a result without a bbox
 * gets the mask's box.
 */
export function parseCocoResultsFast(
  buf: Uint8Array,
  opts: { masks?: boolean } = {},
): CocoResultArrays | null {
  try {
    if (opts.masks !== true) {
      const boxes = parseBoxes(buf);
      if (boxes) return boxes;
    }
    return parse(buf, opts.masks === true);
  } catch (err) {
    if (err === unsupported) return null;
    throw err;
  }
}

/** The four columns being filled, grown by doubling (first guess: a record per 64 bytes). */
class Columns {
  cap: number;
  imageId: Float64Array;
  categoryId: Float64Array;
  bbox: Float64Array;
  score: Float64Array;
  constructor(bytes: number) {
    this.cap = Math.max(16, Math.ceil(bytes / 64));
    this.imageId = new Float64Array(this.cap);
    this.categoryId = new Float64Array(this.cap);
    this.bbox = new Float64Array(this.cap * 4);
    this.score = new Float64Array(this.cap);
  }
  grow(): void {
    this.cap *= 2;
    const grown = (a: Float64Array, m: number) => {
      const b = new Float64Array(this.cap * m);
      b.set(a);
      return b;
    };
    this.imageId = grown(this.imageId, 1);
    this.categoryId = grown(this.categoryId, 1);
    this.bbox = grown(this.bbox, 4);
    this.score = grown(this.score, 1);
  }
  /** The first n records. */
  take(n: number): CocoResultArrays {
    return {
      n,
      imageId: this.imageId.subarray(0, n),
      categoryId: this.categoryId.subarray(0, n),
      bbox: this.bbox.subarray(0, n * 4),
      score: this.score.subarray(0, n),
    };
  }
}

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** Which of the four box-result keys starts at buf[i] (after its quote), with its closing quote. */
function boxKey(buf: Uint8Array, i: number): number {
  for (let k = 0; k < 4; k++) {
    const want = KEYS[k];
    let q = 0;
    while (q < want.length && buf[i + q] === want[q]) q++;
    if (q === want.length && buf[i + q] === 0x22) return k;
  }
  return -1;
}

/**
 * The common case in one loop with the position in a local: a list of objects with exactly
 * image_id, category_id, bbox and score (any order, any whitespace), valid values. Anything
 * else returns null and parse() takes the file (same numbers, more shapes).
 */
function parseBoxes(buf: Uint8Array): CocoResultArrays | null {
  const len = buf.length;
  const cols = new Columns(len);
  let { imageId, categoryId, bbox, score } = cols;
  let n = 0;
  let i = 0;
  while (isSpace(buf[i])) i++;
  if (buf[i++] !== 0x5b) return null;
  while (isSpace(buf[i])) i++;
  if (buf[i] === 0x5d) i++;
  else
    for (;;) {
      if (n === cols.cap) {
        cols.grow();
        ({ imageId, categoryId, bbox, score } = cols);
      }
      while (isSpace(buf[i])) i++;
      if (buf[i++] !== 0x7b) return null;
      let seen = 0;
      for (let member = 0; member < 4; member++) {
        while (isSpace(buf[i])) i++;
        if (buf[i++] !== 0x22) return null;
        const k = boxKey(buf, i);
        if (k < 0 || seen & (1 << k)) return null;
        seen |= 1 << k;
        i += KEYS[k].length + 1;
        while (isSpace(buf[i])) i++;
        if (buf[i++] !== 0x3a) return null;
        while (isSpace(buf[i])) i++;
        if (k === 2) {
          if (buf[i++] !== 0x5b) return null;
          for (let q = 0; q < 4; q++) {
            while (isSpace(buf[i])) i++;
            i = scanNumber(buf, i);
            if (i < 0) return null;
            bbox[n * 4 + q] = scanned[0];
            while (isSpace(buf[i])) i++;
            if (buf[i++] !== (q < 3 ? 0x2c : 0x5d)) return null;
          }
        } else {
          i = scanNumber(buf, i);
          if (i < 0) return null;
          if (k === 0) imageId[n] = scanned[0];
          else if (k === 1) categoryId[n] = scanned[0];
          else score[n] = scanned[0];
        }
        while (isSpace(buf[i])) i++;
        if (buf[i++] !== (member < 3 ? 0x2c : 0x7d)) return null;
      }
      const w = bbox[n * 4 + 2];
      const h = bbox[n * 4 + 3];
      if (!(w > 0 && h > 0 && Number.isFinite(w) && Number.isFinite(h))) return null;
      if (!Number.isFinite(bbox[n * 4]) || !Number.isFinite(bbox[n * 4 + 1])) return null;
      if (!Number.isInteger(imageId[n]) || !Number.isInteger(categoryId[n]) || !Number.isFinite(score[n]))
        return null;
      n++;
      while (isSpace(buf[i])) i++;
      const c = buf[i++];
      if (c === 0x5d) break;
      if (c !== 0x2c) return null;
    }
  while (isSpace(buf[i])) i++;
  if (i !== len) return null;
  return cols.take(n);
}

function parse(buf: Uint8Array, wantMasks: boolean): CocoResultArrays {
  const len = buf.length;
  let i = 0;
  const cols = new Columns(len);
  let { imageId, categoryId, bbox, score } = cols;
  let n = 0;
  const masks: Rle[] = [];
  // Runs of every mask, back to back; each Rle's counts is a view into this buffer. Every value
  // takes at least one byte of the file, so `len` values always suffice: growing (copying and
  // re-pointing 500k views) is left for files over 1 GiB; pages never written cost nothing.
  let pool = new Uint32Array(wantMasks ? Math.max(1024, Math.min(len, 2 ** 28)) : 0);
  let used = 0;
  let firstHasBox = false;

  const ws = () => {
    while (i < len) {
      const c = buf[i];
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
  };
  const expect = (c: number) => {
    ws();
    if (buf[i] !== c) throw unsupported;
    i++;
  };
  const number = (): number => {
    ws();
    const end = scanNumber(buf, i);
    if (end < 0) throw unsupported;
    i = end;
    return scanned[0];
  };
  const skipValue = () => {
    ws();
    const c = buf[i];
    if (c === 0x22) {
      i++;
      while (i < len && buf[i] !== 0x22) i += buf[i] === 0x5c ? 2 : 1;
      if (i >= len) throw unsupported;
      i++;
    } else if (c === 0x7b || c === 0x5b) {
      let depth = 0;
      let inStr = false;
      for (; i < len; i++) {
        const b = buf[i];
        if (inStr) {
          if (b === 0x5c) i++;
          else if (b === 0x22) inStr = false;
        } else if (b === 0x22) inStr = true;
        else if (b === 0x7b || b === 0x5b) depth++;
        else if (b === 0x7d || b === 0x5d) {
          depth--;
          if (depth === 0) {
            i++;
            return;
          }
        }
      }
      throw unsupported;
    } else if (c === 0x74 || c === 0x66 || c === 0x6e) {
      // true / false / null: fine for fields we do not use.
      const word = WORDS.find((w) => w.every((b, q) => buf[i + q] === b));
      if (!word) throw unsupported;
      i += word.length;
    } else number();
  };
  // Key ids: 1 image_id, 2 category_id, 3 bbox, 4 score, 0 other.
  const key = (): number => {
    expect(0x22);
    const s = i;
    while (i < len && buf[i] !== 0x22) {
      if (buf[i] === 0x5c) throw unsupported;
      i++;
    }
    const kl = i - s;
    i++;
    for (let k = 0; k < KEYS.length; k++) {
      const want = KEYS[k];
      if (want.length !== kl) continue;
      let same = true;
      for (let q = 0; q < kl && same; q++) same = buf[s + q] === want[q];
      if (same) return k + 1;
    }
    return 0;
  };

  // After an object member: true at ',' (another member follows), false at '}' (consumed).
  const nextMember = (): boolean => {
    ws();
    if (buf[i] === 0x2c) {
      i++;
      return true;
    }
    if (buf[i] === 0x7d) {
      i++;
      return false;
    }
    throw unsupported;
  };
  const growPool = () => {
    const grown = new Uint32Array(pool.length * 2);
    grown.set(pool);
    pool = grown;
    for (const r of masks) {
      const at = r.counts.byteOffset >> 2;
      r.counts = pool.subarray(at, at + r.counts.length);
    }
  };
  const sameKey = (s: number, kl: number, want: Buffer) => {
    if (kl !== want.length) return false;
    for (let q = 0; q < kl; q++) if (buf[s + q] !== want[q]) return false;
    return true;
  };
  const rawKey = (): [number, number] => {
    expect(0x22);
    const s = i;
    while (i < len && buf[i] !== 0x22) {
      if (buf[i] === 0x5c) throw unsupported;
      i++;
    }
    const kl = i - s;
    i++;
    return [s, kl];
  };
  // {"size": [h, w], "counts": "..."} in either order; the counts string decoded as rleFrString.
  const segmentation = (): Rle => {
    expect(0x7b);
    let h = -1;
    let w = -1;
    let start = -1;
    let m = 0;
    for (;;) {
      const [s, kl] = rawKey();
      expect(0x3a);
      if (sameKey(s, kl, SIZE)) {
        expect(0x5b);
        h = number();
        expect(0x2c);
        w = number();
        expect(0x5d);
        if (!Number.isInteger(h) || !Number.isInteger(w) || h < 0 || w < 0) throw unsupported;
      } else if (sameKey(s, kl, COUNTS)) {
        ws();
        if (buf[i] !== 0x22) throw unsupported;
        i++;
        if (start >= 0) throw unsupported;
        start = used;
        for (;;) {
          const end = decodeCounts(buf, i, pool, start);
          if (end === POOL_FULL) growPool();
          else if (end < 0) throw unsupported;
          else {
            i = end;
            m = decoded[0];
            break;
          }
        }
      } else throw unsupported;
      if (!nextMember()) break;
    }
    if (h < 0 || start < 0) throw unsupported;
    let sum = 0;
    for (let q = start; q < start + m; q++) sum += pool[q];
    if (sum !== h * w) throw unsupported;
    used = start + m;
    return { h, w, counts: pool.subarray(start, start + m) };
  };

  expect(0x5b);
  ws();
  if (buf[i] === 0x5d) {
    i++;
  } else {
    for (;;) {
      if (n === cols.cap) {
        cols.grow();
        ({ imageId, categoryId, bbox, score } = cols);
      }
      expect(0x7b);
      let seen = 0;
      ws();
      if (buf[i] === 0x7d) throw unsupported;
      for (;;) {
        const k = key();
        expect(0x3a);
        if (k === 1) imageId[n] = number();
        else if (k === 2) categoryId[n] = number();
        else if (k === 4) score[n] = number();
        else if (k === 5 && wantMasks) masks.push(segmentation());
        else if (k === 3) {
          expect(0x5b);
          for (let q = 0; q < 4; q++) {
            if (q > 0) expect(0x2c);
            bbox[n * 4 + q] = number();
          }
          expect(0x5d);
        } else skipValue();
        if (k > 0 && (k !== 5 || wantMasks)) {
          if (seen & (1 << k)) throw unsupported;
          seen |= 1 << k;
        }
        if (!nextMember()) break;
      }
      // All four fields, integer ids, finite positive sizes and a finite score; else the general
      // path reports the record.
      const hasBox = (seen & 0b1000) !== 0;
      if (wantMasks) {
        if ((seen & 0b110110) !== 0b110110) throw unsupported;
        if (n === 0) firstHasBox = hasBox;
        else if (hasBox !== firstHasBox) throw unsupported;
        if (!hasBox) bbox.set(rleBoxCached(masks[n]), n * 4);
      } else if (seen !== 0b11110) throw unsupported;
      const w = bbox[n * 4 + 2];
      const h = bbox[n * 4 + 3];
      if (hasBox && !(w > 0 && h > 0 && Number.isFinite(w) && Number.isFinite(h))) throw unsupported;
      if (!Number.isFinite(bbox[n * 4]) || !Number.isFinite(bbox[n * 4 + 1])) throw unsupported;
      if (!Number.isInteger(imageId[n]) || !Number.isInteger(categoryId[n]) || !Number.isFinite(score[n]))
        throw unsupported;
      n++;
      ws();
      if (buf[i] === 0x2c) {
        i++;
        continue;
      }
      if (buf[i] === 0x5d) {
        i++;
        break;
      }
      throw unsupported;
    }
  }
  ws();
  if (i !== len) throw unsupported;
  const out = cols.take(n);
  if (wantMasks) {
    out.masks = masks;
    const area = new Float64Array(n);
    for (let q = 0; q < n; q++)
      area[q] = firstHasBox ? bbox[q * 4 + 2] * bbox[q * 4 + 3] : rleAreaCached(masks[q]);
    out.area = area;
  }
  return out;
}
