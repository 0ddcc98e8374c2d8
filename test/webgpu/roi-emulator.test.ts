import { describe, expect, it } from 'vitest';
import {
  type MapShape,
  type RoiAlignParams,
  roiAlignBackward,
  roiAlignForward,
} from '../../core/roi/align.js';
import { type RoiPoolParams, roiPoolBackward, roiPoolForward } from '../../core/roi/pool.js';
import { seededValues } from '../../core/rng.js';
import { emulateFlatKernel } from '../../core/webgpu/wgsl-emulator.js';
import {
  roiAlignGradSource,
  roiAlignSource,
  roiPoolGradSource,
  roiPoolSource,
} from '../../core/webgpu/roi.js';
import { type Json, opsFixture } from '../detection/torchvision-fixtures.js';

// The WGSL RoI kernels, run by the JS emulator (which translates the generated WGSL itself, with
// float32 rounding at every operation), against the cpu kernels' loops on torchvision's RoI
// fixtures: forward values (and torchvision's own output), RoIPool's argmax exactly, and the map
// gradients for a fixed upstream gradient. Tolerances: RoIPool values and argmax bit-exact,
// its gradient and everything of RoIAlign 1e-5 of the largest magnitude (float32, other sum order).

interface RoiCase {
  label: string;
  map: MapShape;
  x: Float32Array;
  rois: Float32Array;
  ph: number;
  pw: number;
  scale: number;
  samplingRatio: number;
  aligned: boolean;
  expected: Float32Array;
}

function nhwc(t: { shape: number[]; data: number[] }): { map: MapShape; x: Float32Array } {
  const [n, c, h, w] = t.shape;
  const x = new Float32Array(n * h * w * c);
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++)
      for (let y = 0; y < h; y++)
        for (let xx = 0; xx < w; xx++)
          x[((b * h + y) * w + xx) * c + ch] = t.data[((b * c + ch) * h + y) * w + xx];
  return { map: { n, h, w, c }, x };
}

function cases(op: 'roi_align' | 'roi_pool'): RoiCase[] {
  const out: RoiCase[] = [];
  for (const folder of ['ops', 'ops-fuzz'] as const) {
    const f = opsFixture(folder, op);
    f.cases.forEach((c: Json, i: number) => {
      const input = c.input ?? f.input;
      const rois = c.rois ?? f.rois;
      const { map, x } = nhwc(input);
      const size = c.output_size;
      const [ph, pw] = typeof size === 'number' ? [size, size] : [size[0], size[1] ?? size[0]];
      out.push({
        label: `${folder} ${op} case ${i}`,
        map,
        x,
        rois: Float32Array.from((rois as number[][]).flat()),
        ph,
        pw,
        scale: c.spatial_scale ?? 1,
        samplingRatio: c.sampling_ratio ?? -1,
        aligned: c.aligned ?? false,
        expected: nhwc(c.output).x,
      });
    });
  }
  return out;
}

function maxRelative(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  let scale = 1e-30;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  for (let i = 0; i < b.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= worst)) worst = d;
  }
  return worst / scale;
}

const geometry = (c: RoiCase) => ({ ...c.map, ph: c.ph, pw: c.pw });

describe('WGSL RoIAlign (emulated) vs the cpu kernels on the torchvision fixtures', () => {
  const all = cases('roi_align').filter((c) => c.rois.length > 0);
  it(`forward and map gradient agree on ${all.length} cases`, () => {
    expect(all.length).toBeGreaterThan(30);
    const failures: string[] = [];
    let aligned = 0;
    let adaptive = 0;
    for (const c of all) {
      const p: RoiAlignParams = {
        pooledHeight: c.ph,
        pooledWidth: c.pw,
        spatialScale: c.scale,
        samplingRatio: c.samplingRatio,
        aligned: c.aligned,
      };
      if (c.aligned) aligned++;
      if (c.samplingRatio <= 0) adaptive++;
      const r = c.rois.length / 5;
      const size = r * c.ph * c.pw * c.map.c;
      const shapes = { x: [c.map.n, c.map.h, c.map.w, c.map.c], rois: [r, 5] };
      const gpu = emulateFlatKernel(
        roiAlignSource(geometry(c), p),
        { buffers: { x: c.x, rois: c.rois }, shapes },
        size,
        'f32',
      );
      const cpu = new Float32Array(size);
      roiAlignForward(c.x, c.rois, c.map, p, cpu);
      const fwd = maxRelative(gpu, cpu);
      const tv = maxRelative(gpu, c.expected);
      const dy = seededValues(size, 7);
      const mapSize = c.x.length;
      const dx = emulateFlatKernel(
        roiAlignGradSource(geometry(c), p),
        { buffers: { dy, rois: c.rois }, shapes: { dy: [r, c.ph, c.pw, c.map.c], rois: [r, 5] } },
        mapSize,
        'f32',
      );
      const dxCpu = new Float32Array(mapSize);
      roiAlignBackward(dy, c.rois, c.map, p, dxCpu);
      const grad = maxRelative(dx, dxCpu);
      if (!(fwd <= 1e-5 && tv <= 1e-5 && grad <= 1e-5))
        failures.push(`${c.label}: forward ${fwd}, vs torchvision ${tv}, gradient ${grad}`);
    }
    expect(failures).toEqual([]);
    // Both conventions and both sampling modes are among the cases.
    expect(aligned).toBeGreaterThan(0);
    expect(adaptive).toBeGreaterThan(0);
  });
});

describe('WGSL RoIPool (emulated) vs the cpu kernels on the torchvision fixtures', () => {
  const all = cases('roi_pool').filter((c) => c.rois.length > 0);
  it(`values and argmax bit-exact, map gradient within 1e-5, on ${all.length} cases`, () => {
    expect(all.length).toBeGreaterThan(25);
    const failures: string[] = [];
    for (const c of all) {
      const p: RoiPoolParams = { pooledHeight: c.ph, pooledWidth: c.pw, spatialScale: c.scale };
      const r = c.rois.length / 5;
      const size = r * c.ph * c.pw * c.map.c;
      const inputs = {
        buffers: { x: c.x, rois: c.rois },
        shapes: { x: [c.map.n, c.map.h, c.map.w, c.map.c], rois: [r, 5] },
      };
      const values = emulateFlatKernel(roiPoolSource(geometry(c), p, 'value'), inputs, size, 'f32');
      const argmax = emulateFlatKernel(
        roiPoolSource(geometry(c), p, 'argmax'),
        inputs,
        size,
        'i32',
      ) as Int32Array;
      const cpu = new Float32Array(size);
      const cpuArgmax = new Int32Array(size).fill(-1);
      roiPoolForward(c.x, c.rois, c.map, p, cpu, cpuArgmax);
      const dy = seededValues(size, 9);
      const dx = emulateFlatKernel(
        roiPoolGradSource(geometry(c), p),
        {
          buffers: { dy, argmax, rois: c.rois },
          shapes: { dy: [r, c.ph, c.pw, c.map.c], argmax: [r, c.ph, c.pw, c.map.c], rois: [r, 5] },
        },
        c.x.length,
        'f32',
      );
      const dxCpu = new Float32Array(c.x.length);
      roiPoolBackward(dy, cpuArgmax, dxCpu);
      const problems = [
        Array.from(values).every((v, i) => Object.is(v, cpu[i])) ? '' : 'values differ',
        Array.from(values).every((v, i) => v === c.expected[i]) ? '' : 'differs from torchvision',
        Array.from(argmax).every((v, i) => v === cpuArgmax[i]) ? '' : 'argmax differs',
        maxRelative(dx, dxCpu) <= 1e-5 ? '' : `gradient ${maxRelative(dx, dxCpu)}`,
      ].filter(Boolean);
      if (problems.length) failures.push(`${c.label}: ${problems.join(', ')}`);
    }
    expect(failures).toEqual([]);
  });
});

describe('the WGSL emulator', () => {
  it('uses WGSL semantics and refuses what it does not know', () => {
    const src = [
      'fn main(index : i32) {',
      '  let q = (index - 7) / 2;',
      '  let big = i32(3.0e9);',
      '  let third = 1.0 / 3.0;',
      '  result[index] = f32(q + big / 1000000000) + third;',
      '}',
    ].join('\n');
    const out = emulateFlatKernel(src, { buffers: {}, shapes: {} }, 2, 'f32');
    // -7/2 truncates to -3; 3e9 saturates to 2147483520 (largest f32 below 2^31); 1/3 in float32.
    expect(Array.from(out)).toEqual([
      Math.fround(-3 + 2 + Math.fround(1 / 3)),
      Math.fround(-3 + 2 + Math.fround(1 / 3)),
    ]);
    expect(() =>
      emulateFlatKernel(
        'fn main(index : i32) {\n  result[index] = 1.0 + index;\n}',
        { buffers: {}, shapes: {} },
        1,
        'f32',
      ),
    ).toThrow(/type mismatch/);
    expect(() =>
      emulateFlatKernel(
        'fn main(index : i32) {\n  result[0] = 1.0;\n}',
        { buffers: {}, shapes: {} },
        2,
        'f32',
      ),
    ).toThrow(/written twice/);
    expect(() =>
      emulateFlatKernel(
        'fn main(index : i32) {\n  result[index] = x[index + 1];\n}',
        { buffers: { x: new Float32Array(2) }, shapes: {} },
        2,
        'f32',
      ),
    ).toThrow(/outside its 2 elements/);
  });
});
