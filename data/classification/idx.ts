import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { ResdetError } from '../../core/errors.js';

/** An IDX array (the MNIST file format): unsigned bytes with their dimensions. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** Reads `path`, or `path.gz` when only the gzipped file exists; gunzips by magic bytes, not name. */
export function readMaybeGzipped(path: string): Buffer {
  const candidates = path.endsWith('.gz') ? [path, path.slice(0, -3)] : [path, `${path}.gz`];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new ResdetError(`${path}: file not found (also looked for ${candidates[1]})`);
  const raw = readFileSync(found);
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      return gunzipSync(raw);
    } catch (err) {
      throw new ResdetError(
        `${found}: corrupt gzip data (${(err as Error).message})`,
        'download it again (`resdet data download fashion-mnist --to DIR`)',
      );
    }
  }
  return raw;
}

/** Parses an IDX file holding unsigned bytes (type 0x08), as Fashion-MNIST's images and labels. */
export function parseIdx(buf: Buffer, label: string): IdxArray {
  if (buf.length < 4 || buf[0] !== 0 || buf[1] !== 0) {
    throw new ResdetError(`${label}: not an IDX file (bad magic number)`);
  }
  if (buf[2] !== 0x08) {
    throw new ResdetError(
      `${label}: IDX element type 0x${buf[2].toString(16)} is not supported (expected 0x08, ubyte)`,
    );
  }
  const rank = buf[3];
  const header = 4 + 4 * rank;
  if (buf.length < header) throw new ResdetError(`${label}: truncated IDX header`);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(buf.readUInt32BE(4 + 4 * i));
  const count = dims.reduce((a, b) => a * b, 1);
  if (buf.length !== header + count) {
    throw new ResdetError(
      `${label}: IDX size mismatch: dimensions [${dims.join(', ')}] need ${header + count} bytes, file has ${buf.length}`,
      'the file is truncated or corrupt; download it again',
    );
  }
  return { dims, data: new Uint8Array(buf.buffer, buf.byteOffset + header, count) };
}

export function readIdx(path: string): IdxArray {
  return parseIdx(readMaybeGzipped(path), path);
}
