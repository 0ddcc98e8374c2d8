import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type NumpyArray,
  numpyToTensor,
  PickleError,
  PyDict,
  type PyValue,
  readPickle,
} from '../../core/pickle.js';
import { toFloat32 } from '../../core/safetensors.js';
import { repoRoot } from '../helpers/cli.js';

// Written by test/fixtures/pickle/generate.py (numpy's own pickling).
const dir = join(repoRoot, 'test/fixtures/pickle');
const read = (name: string): PyValue => readPickle(readFileSync(join(dir, name)), name);
const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')).arrays as Record<
  string,
  { shape: number[]; values: number[] }
>;

function dict(v: PyValue): PyDict {
  if (!(v instanceof PyDict)) throw new Error('not a dict');
  return v;
}

function values(a: NumpyArray, name: string): number[] {
  const { tensor } = numpyToTensor(a, name);
  if (tensor.dtype === 'I64') return Array.from(tensor.data as BigInt64Array, Number);
  return Array.from(toFloat32(tensor));
}

describe('readPickle', () => {
  for (const protocol of [2, 3, 4, 5]) {
    it(`reads the model-zoo layout with every dtype (protocol ${protocol})`, () => {
      const top = dict(read(`zoo_p${protocol}.pkl`));
      expect([...top.entries.keys()]).toEqual(['model', '__author__', 'matching_heuristics']);
      expect(top.entries.get('__author__')).toBe('Detectron2 Model Zoo');
      expect(top.entries.get('matching_heuristics')).toBe(true);
      const model = dict(top.entries.get('model') as PyValue);
      expect([...model.entries.keys()].sort()).toEqual(Object.keys(expected).sort());
      for (const [name, want] of Object.entries(expected)) {
        const a = model.entries.get(name) as NumpyArray;
        expect(a.kind, name).toBe('ndarray');
        expect(a.shape, name).toEqual(want.shape);
        const got = values(a, name);
        // float64 is narrowed to float32; everything else is exact.
        const exact = name === 'f64' ? want.values.map(Math.fround) : want.values;
        expect(got, name).toEqual(exact);
      }
    });
  }

  it('reports float64 as narrowed, float32/float16/int64 as kept', () => {
    const model = dict(dict(read('zoo_p3.pkl')).entries.get('model') as PyValue);
    const dtypeOf = (n: string) => numpyToTensor(model.entries.get(n) as NumpyArray, n);
    expect(dtypeOf('f64')).toMatchObject({ narrowed: true, tensor: { dtype: 'F32' } });
    expect(dtypeOf('f32')).toMatchObject({ narrowed: false, tensor: { dtype: 'F32' } });
    expect(dtypeOf('f16')).toMatchObject({ narrowed: false, tensor: { dtype: 'F16' } });
    expect(dtypeOf('i64')).toMatchObject({ narrowed: false, tensor: { dtype: 'I64' } });
  });

  it('reads an OrderedDict and a Caffe2-style blobs dict', () => {
    const ordered = dict(dict(read('ordered_p2.pkl')).entries.get('model') as PyValue);
    expect(ordered.entries.size).toBe(Object.keys(expected).length);
    const blobs = dict(dict(read('blobs_p2.pkl')).entries.get('blobs') as PyValue);
    expect([...blobs.entries.keys()]).toEqual(['conv1_w', 'res2_0_branch2a_w']);
  });

  it('refuses pickles that name callables other than numpy array rebuilding', () => {
    expect(() => read('evil_os_system_global.pkl')).toThrow(
      'pickle names callable os.system; only numpy arrays are allowed',
    );
    // Python writes os.system under its real module, posix.
    expect(() => read('evil_os_system.pkl')).toThrow('pickle names callable posix.system');
    // protocol 2 spells builtins as __builtin__
    expect(() => read('evil_eval.pkl')).toThrow('pickle names callable __builtin__.eval');
  });

  it('refuses a REDUCE whose callable is not a whitelisted global', () => {
    expect(() => read('evil_nested_reduce.pkl')).toThrow(
      /REDUCE calls dtype; only whitelisted numpy callables/,
    );
  });

  it('refuses object arrays, truncated streams and non-pickles, naming the file', () => {
    expect(() => read('object_array.pkl')).toThrow(
      'object_array.pkl: numpy array data is list (object arrays are refused)',
    );
    const truncated = () => read('truncated.pkl');
    expect(truncated).toThrow(PickleError);
    expect(truncated).toThrow(/truncated\.pkl: truncated/);
    expect(() => read('not_a_pickle.pkl')).toThrow(/not_a_pickle\.pkl: not a pickle of protocol 2 or later/);
  });

  it('refuses malformed streams: stack underflow, trailing bytes, unknown opcodes', () => {
    expect(() => readPickle(Uint8Array.from([0x80, 0x03, 0x73, 0x2e]), 'x.pkl')).toThrow(/stack underflow/);
    expect(() => readPickle(Uint8Array.from([0x80, 0x03, 0x4e, 0x2e, 0x00]), 'x.pkl')).toThrow(
      /1 bytes after STOP/,
    );
    // INST (text-protocol object creation) is never allowed
    expect(() => readPickle(Uint8Array.from([0x80, 0x02, 0x69, 0x2e]), 'x.pkl')).toThrow(
      /opcode not allowed/,
    );
    expect(() => readPickle(Uint8Array.from([0x80, 0x09, 0x4e, 0x2e]), 'x.pkl')).toThrow(
      /protocol 9 is not supported/,
    );
    expect(() => readPickle(Uint8Array.from([0x80, 0x03, 0x4e]), 'x.pkl')).toThrow(/ends before STOP/);
  });

  it('reads a top-level list (shape checks are the caller’s)', () => {
    const top = read('list_top_p3.pkl');
    expect(top).toMatchObject({ kind: 'list' });
  });
});
