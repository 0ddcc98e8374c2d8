import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import sharp, { type Metadata } from 'sharp';

/**
 * Cheap integrity checks of an image file without decoding it: the JPEG end-of-image marker or the
 * PNG IEND chunk must be there (a truncated download lacks them), and the header's size must match
 * the annotation's. Returns a problem description, or undefined when the file looks whole.
 */
export async function quickImageCheck(
  path: string,
  expected?: { width: number; height: number },
): Promise<string | undefined> {
  let head: Buffer;
  let tail: Buffer;
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return 'image file is empty';
    head = Buffer.alloc(Math.min(8, size));
    readSync(fd, head, 0, head.length, 0);
    const tailLen = Math.min(64, size);
    tail = Buffer.alloc(tailLen);
    readSync(fd, tail, 0, tailLen, size - tailLen);
  } finally {
    closeSync(fd);
  }
  if (head[0] === 0xff && head[1] === 0xd8) {
    // Some writers pad after EOI with zeros or whitespace; skip those before looking for FF D9.
    let end = tail.length;
    while (end > 0 && (tail[end - 1] === 0 || tail[end - 1] === 0x0a || tail[end - 1] === 0x0d)) end--;
    if (end < 2 || tail[end - 2] !== 0xff || tail[end - 1] !== 0xd9) {
      return 'truncated JPEG (no end-of-image marker)';
    }
  } else if (head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) {
    if (tail.indexOf('IEND') < 0) return 'truncated PNG (no IEND chunk)';
  }
  let meta: Metadata;
  try {
    meta = await sharp(path).metadata();
  } catch (err) {
    return `cannot read image header (${(err as Error).message})`;
  }
  if (expected && meta.width && meta.height) {
    const sameAsStored = meta.width === expected.width && meta.height === expected.height;
    const sameRotated = meta.width === expected.height && meta.height === expected.width;
    if (!sameAsStored && !sameRotated) {
      return `image is ${meta.width}x${meta.height} but the annotation says ${expected.width}x${expected.height}`;
    }
  }
  return undefined;
}
