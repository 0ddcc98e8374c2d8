import { closeSync, openSync, readFileSync, readSync, fstatSync } from 'node:fs';
import { ResdetError } from './errors.js';
import { writeFileAtomic } from './atomic.js';
import {
  bfloat16BitsToFloat32,
  float16BitsToFloat32,
  float32ToBfloat16Bits,
  float32ToFloat16Bits,
} from './half.js';

/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header naming every
 * tensor's dtype, shape and byte span, then the raw little-endian data. Reading validates every
 * field so a bad file fails here, with its name, rather than as a wrong number later.
 */

export type SafeDtype = 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'U8' | 'BOOL';

export const DTYPE_BYTES: Record<SafeDtype, number> = {
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  U8: 1,
  BOOL: 1,
};

export interface SafeTensorInfo {
  readonly name: string;
  readonly dtype: SafeDtype;
  readonly shape: readonly number[];
  /** Offsets relative to the start of the data section, as in the header. */
  readonly begin: number;
  readonly end: number;
}

/** Typed array per dtype; F16 and BF16 carry their raw 16-bit patterns. */
export type SafeTensorData = Float32Array | Uint16Array | BigInt64Array | Int32Array | Uint8Array;

export interface SafeTensor {
  dtype: SafeDtype;
  shape: readonly number[];
  data: SafeTensorData;
}

const MAX_HEADER_BYTES = 100 * 1024 * 1024;

function isDtype(value: unknown): value is SafeDtype {
  return typeof value === 'string' && Object.hasOwn(DTYPE_BYTES, value);
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** A parsed safetensors file over one buffer; tensor views share that buffer where alignment allows. */
export class SafetensorsFile {
  readonly label: string;
  readonly metadata: Readonly<Record<string, string>>;
  private readonly tensors: Map<string, SafeTensorInfo>;
  private readonly bytes: Uint8Array;
  private readonly dataStart: number;

  private constructor(
    label: string,
    bytes: Uint8Array,
    dataStart: number,
    tensors: Map<string, SafeTensorInfo>,
    metadata: Record<string, string>,
  ) {
    this.label = label;
    this.bytes = bytes;
    this.dataStart = dataStart;
    this.tensors = tensors;
    this.metadata = metadata;
  }

  /** Parses and validates `bytes`; `label` (usually the path) appears in every error. */
  static parse(bytes: Uint8Array, label = '<buffer>'): SafetensorsFile {
    const fail = (problem: string): never => {
      throw new ResdetError(`${label}: not a valid safetensors file: ${problem}`);
    };
    if (bytes.byteLength < 8)
      fail(`file is ${bytes.byteLength} bytes, shorter than the 8-byte header length`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const headerLen = Number(view.getBigUint64(0, true));
    if (headerLen > MAX_HEADER_BYTES)
      fail(`header length ${headerLen} is implausibly large (corrupted file?)`);
    if (8 + headerLen > bytes.byteLength) {
      fail(
        `header length ${headerLen} runs past the end of the file (${bytes.byteLength} bytes): truncated?`,
      );
    }
    let header: unknown;
    try {
      header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, headerLen).toString('utf8'));
    } catch (err) {
      fail(`header is not valid JSON (${(err as Error).message})`);
    }
    if (typeof header !== 'object' || header === null || Array.isArray(header))
      fail('header is not a JSON object');
    const dataStart = 8 + headerLen;
    const dataLength = bytes.byteLength - dataStart;
    const tensors = new Map<string, SafeTensorInfo>();
    let metadata: Record<string, string> = {};
    for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
      if (name === '__metadata__') {
        if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
          fail('__metadata__ is not an object');
        for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
          if (typeof v !== 'string') fail(`__metadata__.${k} is not a string`);
        }
        metadata = raw as Record<string, string>;
        continue;
      }
      const entry = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      if (typeof entry !== 'object' || entry === null) fail(`tensor "${name}": entry is not an object`);
      if (!isDtype(entry.dtype)) {
        fail(
          `tensor "${name}": unsupported dtype ${JSON.stringify(entry.dtype)} (supported: ${Object.keys(DTYPE_BYTES).join(', ')})`,
        );
      }
      const dtype = entry.dtype as SafeDtype;
      const shape = entry.shape;
      if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
        fail(`tensor "${name}": shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
      }
      const offsets = entry.data_offsets;
      if (
        !Array.isArray(offsets) ||
        offsets.length !== 2 ||
        !offsets.every((o) => Number.isInteger(o) && o >= 0) ||
        offsets[0] > offsets[1]
      ) {
        fail(
          `tensor "${name}": data_offsets ${JSON.stringify(offsets)} must be [begin, end] with 0 <= begin <= end`,
        );
      }
      const [begin, end] = offsets as [number, number];
      const expected = elementCount(shape as number[]) * DTYPE_BYTES[dtype];
      if (end - begin !== expected) {
        fail(
          `tensor "${name}": shape ${JSON.stringify(shape)} x ${dtype} needs ${expected} bytes but data_offsets span ${end - begin}`,
        );
      }
      if (end > dataLength) {
        fail(
          `tensor "${name}": data_offsets end ${end} is past the data section (${dataLength} bytes): truncated file?`,
        );
      }
      tensors.set(name, { name, dtype, shape: shape as number[], begin, end });
    }
    const spans = [...tensors.values()].filter((t) => t.end > t.begin).sort((a, b) => a.begin - b.begin);
    for (let i = 1; i < spans.length; i++) {
      if (spans[i].begin < spans[i - 1].end) {
        fail(`tensors "${spans[i - 1].name}" and "${spans[i].name}" overlap in the data section`);
      }
    }
    return new SafetensorsFile(label, bytes, dataStart, tensors, metadata);
  }

  names(): string[] {
    return [...this.tensors.keys()];
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  info(name: string): SafeTensorInfo {
    const info = this.tensors.get(name);
    if (!info) throw new ResdetError(`${this.label}: no tensor named "${name}"`);
    return info;
  }

  /** The tensor's bytes, a view into the file's buffer (no copy). */
  raw(name: string): Uint8Array {
    const info = this.info(name);
    return this.bytes.subarray(this.dataStart + info.begin, this.dataStart + info.end);
  }

  /** The tensor in its own dtype; a view when the bytes are aligned, else one copy. */
  tensor(name: string): SafeTensor {
    const info = this.info(name);
    const raw = this.raw(name);
    const n = elementCount(info.shape);
    const size = DTYPE_BYTES[info.dtype];
    const aligned = raw.byteOffset % size === 0 ? raw : new Uint8Array(raw);
    let data: SafeTensorData;
    switch (info.dtype) {
      case 'F32':
        data = new Float32Array(aligned.buffer, aligned.byteOffset, n);
        break;
      case 'F16':
      case 'BF16':
        data = new Uint16Array(aligned.buffer, aligned.byteOffset, n);
        break;
      case 'I64':
        data = new BigInt64Array(aligned.buffer, aligned.byteOffset, n);
        break;
      case 'I32':
        data = new Int32Array(aligned.buffer, aligned.byteOffset, n);
        break;
      default:
        data = aligned;
    }
    return { dtype: info.dtype, shape: info.shape, data };
  }

  /** The tensor as float32 (F16/BF16 widened exactly; integers converted). */
  float32(name: string): Float32Array {
    return toFloat32(this.tensor(name));
  }
}

/** Converts any safetensors tensor to float32 values. F32 input is returned as is (no copy). */
export function toFloat32(t: SafeTensor): Float32Array {
  const { dtype, data } = t;
  if (dtype === 'F32') return data as Float32Array;
  const out = new Float32Array(data.length);
  if (dtype === 'F16') {
    const src = data as Uint16Array;
    for (let i = 0; i < src.length; i++) out[i] = float16BitsToFloat32(src[i]);
  } else if (dtype === 'BF16') {
    const src = data as Uint16Array;
    for (let i = 0; i < src.length; i++) out[i] = bfloat16BitsToFloat32(src[i]);
  } else if (dtype === 'I64') {
    const src = data as BigInt64Array;
    for (let i = 0; i < src.length; i++) out[i] = Number(src[i]);
  } else {
    const src = data as Int32Array | Uint8Array;
    for (let i = 0; i < src.length; i++) out[i] = src[i];
  }
  return out;
}

/** Builds an F16 or BF16 tensor from float32 values. */
export function fromFloat32(
  values: Float32Array,
  shape: readonly number[],
  dtype: 'F32' | 'F16' | 'BF16',
): SafeTensor {
  if (dtype === 'F32') return { dtype, shape, data: values };
  const bits = new Uint16Array(values.length);
  const convert = dtype === 'F16' ? float32ToFloat16Bits : float32ToBfloat16Bits;
  for (let i = 0; i < values.length; i++) bits[i] = convert(values[i]);
  return { dtype, shape, data: bits };
}

/** Reads a whole file and parses it; the returned tensors are views into that one buffer. */
export function readSafetensors(path: string): SafetensorsFile {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new ResdetError(`${path}: file not found`, 'check the path to the .safetensors file');
    throw new ResdetError(`${path}: cannot read (${(err as Error).message})`);
  }
  return SafetensorsFile.parse(bytes, path);
}

/** Reads only the header (for listing a large file's tensors without loading it). */
export function readSafetensorsHeader(path: string): Record<string, unknown> {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const lenBuf = Buffer.alloc(8);
    if (readSync(fd, lenBuf, 0, 8, 0) !== 8) throw new ResdetError(`${path}: shorter than 8 bytes`);
    const len = Number(lenBuf.readBigUInt64LE(0));
    if (len > MAX_HEADER_BYTES || 8 + len > size)
      throw new ResdetError(`${path}: header length ${len} is invalid`);
    const head = Buffer.alloc(len);
    readSync(fd, head, 0, len, 8);
    return JSON.parse(head.toString('utf8')) as Record<string, unknown>;
  } finally {
    closeSync(fd);
  }
}

function bytesOf(t: SafeTensor): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

/**
 * The header plus padding, and the order tensors are laid out in: widest dtype first, then by name,
 * so every tensor starts aligned to its element size (the format allows no gaps between tensors)
 * and reads back as a zero-copy view.
 */
function buildHeader(
  tensors: Record<string, SafeTensor>,
  metadata?: Record<string, string>,
): { head: Buffer; names: string[] } {
  const names = Object.keys(tensors).sort((a, b) => {
    const wa = DTYPE_BYTES[tensors[a].dtype];
    const wb = DTYPE_BYTES[tensors[b].dtype];
    return wa !== wb ? wb - wa : a < b ? -1 : a > b ? 1 : 0;
  });
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const t = tensors[name];
    const expected = elementCount(t.shape) * DTYPE_BYTES[t.dtype];
    if (t.data.byteLength !== expected) {
      throw new ResdetError(
        `tensor "${name}": shape ${JSON.stringify(t.shape)} x ${t.dtype} needs ${expected} bytes, data has ${t.data.byteLength}`,
      );
    }
    header[name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + expected] };
    offset += expected;
  }
  let json = JSON.stringify(header);
  // Padding to 8 bytes keeps every tensor aligned for zero-copy typed-array views when read back.
  while ((Buffer.byteLength(json) + 8) % 8 !== 0) json += ' ';
  const jsonBytes = Buffer.from(json, 'utf8');
  const head = Buffer.alloc(8 + jsonBytes.byteLength);
  head.writeBigUInt64LE(BigInt(jsonBytes.byteLength), 0);
  jsonBytes.copy(head, 8);
  return { head, names };
}

/** Serialises tensors into one buffer (for small files and tests). */
export function serializeSafetensors(
  tensors: Record<string, SafeTensor>,
  metadata?: Record<string, string>,
): Buffer {
  const { head, names } = buildHeader(tensors, metadata);
  return Buffer.concat([head, ...names.map((n) => bytesOf(tensors[n]))]);
}

/** Writes tensors to `path` atomically (temp file + rename), streaming each tensor's bytes. */
export function writeSafetensors(
  path: string,
  tensors: Record<string, SafeTensor>,
  metadata?: Record<string, string>,
): void {
  const { head, names } = buildHeader(tensors, metadata);
  writeFileAtomic(path, [head, ...names.map((n) => bytesOf(tensors[n]))]);
}
