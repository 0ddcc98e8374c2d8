import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  fromFloat32,
  readSafetensors,
  SafetensorsFile,
  type SafeTensor,
  serializeSafetensors,
  toFloat32,
  writeSafetensors,
} from '../../core/safetensors.js';
import {
  float16BitsToFloat32,
  float32ToFloat16Bits,
  float32ToBfloat16Bits,
  bfloat16BitsToFloat32,
} from '../../core/half.js';
import { repoRoot } from '../helpers/cli.js';

const fixture = join(repoRoot, 'test/fixtures/torchvision/tiny_resnet_basic1111_c10_f16.safetensors');

function allDtypes(): Record<string, SafeTensor> {
  return {
    f32: { dtype: 'F32', shape: [2, 3], data: new Float32Array([1.5, -2, 0, 3.25, 1e-8, -1e30]) },
    f16: fromFloat32(new Float32Array([0.5, -1, 65504, 6.1e-5, 0, 1 / 3]), [3, 2], 'F16'),
    bf16: fromFloat32(new Float32Array([1, -3.5, 1e30, 0.1]), [4], 'BF16'),
    i64: { dtype: 'I64', shape: [3], data: new BigInt64Array([0n, -5n, 9007199254740993n]) },
    i32: { dtype: 'I32', shape: [2, 2], data: new Int32Array([1, -2, 2147483647, -2147483648]) },
    u8: { dtype: 'U8', shape: [5], data: new Uint8Array([0, 1, 127, 128, 255]) },
    bool: { dtype: 'BOOL', shape: [3], data: new Uint8Array([1, 0, 1]) },
    scalar: { dtype: 'I64', shape: [], data: new BigInt64Array([42n]) },
    empty: { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
  };
}

describe('safetensors', () => {
  it('round-trips every dtype bit for bit, with metadata', () => {
    const tensors = allDtypes();
    const file = SafetensorsFile.parse(serializeSafetensors(tensors, { note: 'hi' }), 'mem');
    expect(file.metadata).toEqual({ note: 'hi' });
    expect(file.names().sort()).toEqual(Object.keys(tensors).sort());
    for (const [name, t] of Object.entries(tensors)) {
      const back = file.tensor(name);
      expect(back.dtype).toBe(t.dtype);
      expect(back.shape).toEqual(t.shape);
      expect(Array.from(back.data as ArrayLike<number | bigint>)).toEqual(
        Array.from(t.data as ArrayLike<number | bigint>),
      );
    }
    expect(file.tensor('i64').data[2]).toBe(9007199254740993n);
  });

  it('writes atomically to disk and reads back without copying F32 data', () => {
    const dir = mkdtempSync(join(tmpdir(), 'st-'));
    const path = join(dir, 'w.safetensors');
    writeSafetensors(path, allDtypes());
    const file = readSafetensors(path);
    const a = file.tensor('f32').data;
    const b = file.tensor('f32').data;
    expect(a.buffer).toBe(b.buffer);
    expect(Array.from(file.float32('f16'))).toEqual(Array.from(toFloat32(allDtypes().f16)));
  });

  it('converts half precision exactly where representable and rounds to nearest even', () => {
    for (const v of [0, 1, -1, 0.5, 65504, 2 ** -24, 2 ** -14, -0.099975586]) {
      expect(float16BitsToFloat32(float32ToFloat16Bits(v))).toBeCloseTo(v, 7);
    }
    expect(float32ToFloat16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie -> even
    expect(float32ToFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(float32ToFloat16Bits(1e6)).toBe(0x7c00);
    expect(bfloat16BitsToFloat32(float32ToBfloat16Bits(1.5))).toBe(1.5);
    expect(Number.isNaN(bfloat16BitsToFloat32(float32ToBfloat16Bits(Number.NaN)))).toBe(true);
  });

  it('reads the torch-written fixture (F16 weights, I64 num_batches_tracked)', () => {
    const file = readSafetensors(fixture);
    const conv = file.info('conv1.weight');
    expect(conv.dtype).toBe('F16');
    expect(conv.shape.length).toBe(4);
    const w = file.float32('conv1.weight');
    expect(w.length).toBe(conv.shape.reduce((a, b) => a * b, 1));
    expect(w.every(Number.isFinite)).toBe(true);
    const nbt = file.tensor('bn1.num_batches_tracked');
    expect(nbt.dtype).toBe('I64');
    expect(nbt.shape).toEqual([]);
    expect(typeof nbt.data[0]).toBe('bigint');
  });

  describe('rejects bad files with the file name and the problem', () => {
    const good = serializeSafetensors(allDtypes());
    const dir = mkdtempSync(join(tmpdir(), 'stbad-'));
    const write = (name: string, bytes: Uint8Array) => {
      const p = join(dir, name);
      writeFileSync(p, bytes);
      return p;
    };
    const headerLen = Number(good.readBigUInt64LE(0));
    const withHeader = (json: string) => {
      const body = Buffer.from(json, 'utf8');
      const head = Buffer.alloc(8);
      head.writeBigUInt64LE(BigInt(body.length));
      return Buffer.concat([head, body, Buffer.alloc(64)]);
    };

    it('truncated data', () => {
      const p = write('trunc.safetensors', good.subarray(0, good.length - 10));
      expect(() => readSafetensors(p)).toThrow(/trunc\.safetensors.*(past the data section|truncated)/);
    });
    it('truncated header', () => {
      const p = write('head.safetensors', good.subarray(0, 8 + headerLen - 5));
      expect(() => readSafetensors(p)).toThrow(/head\.safetensors.*runs past the end/);
    });
    it('shorter than 8 bytes', () => {
      const p = write('tiny.safetensors', new Uint8Array([1, 2, 3]));
      expect(() => readSafetensors(p)).toThrow(/tiny\.safetensors.*shorter than the 8-byte/);
    });
    it('corrupted header JSON', () => {
      const bad = Buffer.from(good);
      bad[8] = 0x78; // 'x' where the opening brace was
      const p = write('json.safetensors', bad);
      expect(() => readSafetensors(p)).toThrow(/json\.safetensors.*not valid JSON/);
    });
    it('absurd header length', () => {
      const bad = Buffer.from(good);
      bad.writeBigUInt64LE(1n << 40n, 0);
      const p = write('len.safetensors', bad);
      expect(() => readSafetensors(p)).toThrow(/implausibly large/);
    });
    it('unknown dtype, names the tensor', () => {
      const p = write('dt.safetensors', withHeader('{"w":{"dtype":"F8","shape":[1],"data_offsets":[0,1]}}'));
      expect(() => readSafetensors(p)).toThrow(/dt\.safetensors.*tensor "w".*unsupported dtype "F8"/);
    });
    it('shape x dtype disagrees with the byte span', () => {
      const p = write(
        'span.safetensors',
        withHeader('{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}}'),
      );
      expect(() => readSafetensors(p)).toThrow(/tensor "w".*needs 16 bytes but data_offsets span 12/);
    });
    it('overlapping tensors', () => {
      const p = write(
        'overlap.safetensors',
        withHeader(
          '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}',
        ),
      );
      expect(() => readSafetensors(p)).toThrow(/"a" and "b" overlap/);
    });
    it('offsets out of range', () => {
      const p = write(
        'range.safetensors',
        withHeader('{"a":{"dtype":"F32","shape":[32],"data_offsets":[0,128]}}'),
      );
      expect(() => readSafetensors(p)).toThrow(/tensor "a".*past the data section/);
    });
    it('missing file', () => {
      expect(() => readSafetensors(join(dir, 'nope.safetensors'))).toThrow(
        /nope\.safetensors: file not found/,
      );
    });
    it('bytes of the real fixture, truncated', () => {
      const bytes = readFileSync(fixture);
      const p = write('fixture-cut.safetensors', bytes.subarray(0, bytes.length - 100));
      expect(() => readSafetensors(p)).toThrow(/fixture-cut\.safetensors.*truncated/);
    });
  });
});
