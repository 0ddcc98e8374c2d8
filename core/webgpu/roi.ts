import type * as tf from '@tensorflow/tfjs';
import type { RoiAlignParams } from '../roi/align.js';
import type { RoiPoolParams } from '../roi/pool.js';
import {
  mapShape,
  pooledShape,
  ROI_ALIGN,
  ROI_ALIGN_GRAD,
  ROI_POOL,
  ROI_POOL_GRAD,
  type RoiGradAttrs,
} from '../roi/kernels.js';
import type { WebGPUProgramLike } from './programs.js';
import { asWebgpuBackend } from './register.js';

/**
 * RoIAlign and RoIPool for tfjs-backend-webgpu: one thread per output element for the forward
 * passes, and for the backward passes one thread per feature-map element gathering from every
 * RoI of its image (WGSL has no float atomics, and a gather needs none). The arithmetic follows
 * core/roi's loops statement by statement in float32. The map's geometry and the op's options are
 * baked into the shader; the number of RoIs is read from the `rois` shape uniform tfjs passes, so
 * one pipeline serves every batch of RoIs.
 */

export const ROI_WORKGROUP = 64;

/** A float32 WGSL literal (always with a decimal point or exponent). */
function f32(x: number): string {
  const s = String(Math.fround(x));
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

export interface RoiGeometry extends ReturnType<typeof mapShape> {
  ph: number;
  pw: number;
}

const USE_UNIFORMS = '_ = uniforms.NAN;';

/** RoIAlign's per-RoI setup (torchvision's order): start, bin size, grid, count. */
function alignRoiSetup(g: RoiGeometry, p: RoiAlignParams, indent: string): string[] {
  const offset = p.aligned ? 0.5 : 0;
  const scale = f32(p.spatialScale);
  const grid = (bin: string) => (p.samplingRatio > 0 ? `${p.samplingRatio}` : `i32(ceil(${bin}))`);
  return [
    `let sw = rois[r * 5 + 1] * ${scale} - ${f32(offset)};`,
    `let sh = rois[r * 5 + 2] * ${scale} - ${f32(offset)};`,
    `let ew = rois[r * 5 + 3] * ${scale} - ${f32(offset)};`,
    `let eh = rois[r * 5 + 4] * ${scale} - ${f32(offset)};`,
    p.aligned ? 'let roiW = ew - sw;' : 'let roiW = max(ew - sw, 1.0);',
    p.aligned ? 'let roiH = eh - sh;' : 'let roiH = max(eh - sh, 1.0);',
    `let binH = roiH / ${f32(g.ph)};`,
    `let binW = roiW / ${f32(g.pw)};`,
    `let gridH = ${grid('binH')};`,
    `let gridW = ${grid('binW')};`,
    'let count = f32(max(gridH * gridW, 1));',
  ].map((l) => indent + l);
}

/** One sample coordinate along an axis: clamped position, low/high indices and their weights. */
function alignAxis(axis: 'y' | 'x', size: number, indent: string): string[] {
  const [pos, lo, hi, l, h] =
    axis === 'y' ? ['sy', 'yLow', 'yHigh', 'ly', 'hy'] : ['sx', 'xLow', 'xHigh', 'lx', 'hx'];
  const raw = axis === 'y' ? 'yy' : 'xx';
  return [
    `var ${pos} = max(${raw}, 0.0);`,
    `var ${lo} = i32(floor(${pos}));`,
    `var ${hi} = ${lo} + 1;`,
    `if (${lo} >= ${size - 1}) {`,
    `  ${lo} = ${size - 1};`,
    `  ${hi} = ${size - 1};`,
    `  ${pos} = f32(${lo});`,
    '}',
    `let ${l} = ${pos} - f32(${lo});`,
    `let ${h} = 1.0 - ${l};`,
  ].map((s) => indent + s);
}

const SAMPLE_Y = 'let yy = sh + f32(ph) * binH + (f32(iy) + 0.5) * binH / f32(gridH);';
const SAMPLE_X = 'let xx = sw + f32(pw) * binW + (f32(ix) + 0.5) * binW / f32(gridW);';

export function roiAlignSource(g: RoiGeometry, p: RoiAlignParams): string {
  const { h, w, c, ph, pw } = g;
  return [
    'fn main(index : i32) {',
    `  ${USE_UNIFORMS}`,
    `  if (index >= uniforms.roisShape.x * ${ph * pw * c}) {`,
    '    return;',
    '  }',
    `  let ch = index % ${c};`,
    `  let cell = index / ${c};`,
    `  let pw = cell % ${pw};`,
    `  let ph = (cell / ${pw}) % ${ph};`,
    `  let r = cell / ${pw * ph};`,
    '  let b = i32(rois[r * 5]);',
    ...alignRoiSetup(g, p, '  '),
    '  var acc = 0.0;',
    '  for (var iy = 0; iy < gridH; iy = iy + 1) {',
    `    ${SAMPLE_Y}`,
    '    for (var ix = 0; ix < gridW; ix = ix + 1) {',
    `      ${SAMPLE_X}`,
    `      if (yy < -1.0 || yy > ${f32(h)} || xx < -1.0 || xx > ${f32(w)}) {`,
    '        continue;',
    '      }',
    ...alignAxis('y', h, '      '),
    ...alignAxis('x', w, '      '),
    `      let row0 = (b * ${h} + yLow) * ${w};`,
    `      let row1 = (b * ${h} + yHigh) * ${w};`,
    `      let v1 = x[(row0 + xLow) * ${c} + ch];`,
    `      let v2 = x[(row0 + xHigh) * ${c} + ch];`,
    `      let v3 = x[(row1 + xLow) * ${c} + ch];`,
    `      let v4 = x[(row1 + xHigh) * ${c} + ch];`,
    '      acc = acc + hy * hx * v1 + hy * lx * v2 + ly * hx * v3 + ly * lx * v4;',
    '    }',
    '  }',
    '  result[index] = acc / count;',
    '}',
  ].join('\n');
}

export function roiAlignGradSource(g: RoiGeometry, p: RoiAlignParams): string {
  const { n, h, w, c, ph, pw } = g;
  return [
    'fn main(index : i32) {',
    `  ${USE_UNIFORMS}`,
    `  if (index >= ${n * h * w * c}) {`,
    '    return;',
    '  }',
    `  let ch = index % ${c};`,
    `  let px = (index / ${c}) % ${w};`,
    `  let py = (index / ${c * w}) % ${h};`,
    `  let n = index / ${c * w * h};`,
    '  var acc = 0.0;',
    '  for (var r = 0; r < uniforms.roisShape.x; r = r + 1) {',
    '    if (i32(rois[r * 5]) != n) {',
    '      continue;',
    '    }',
    ...alignRoiSetup(g, p, '    '),
    `    for (var ph = 0; ph < ${ph}; ph = ph + 1) {`,
    '      for (var iy = 0; iy < gridH; iy = iy + 1) {',
    `        ${SAMPLE_Y}`,
    `        if (yy < -1.0 || yy > ${f32(h)}) {`,
    '          continue;',
    '        }',
    ...alignAxis('y', h, '        '),
    '        var wy = 0.0;',
    '        if (yLow == py) {',
    '          wy = wy + hy;',
    '        }',
    '        if (yHigh == py) {',
    '          wy = wy + ly;',
    '        }',
    '        if (wy == 0.0) {',
    '          continue;',
    '        }',
    `        for (var pw = 0; pw < ${pw}; pw = pw + 1) {`,
    '          var wx = 0.0;',
    '          for (var ix = 0; ix < gridW; ix = ix + 1) {',
    `            ${SAMPLE_X}`,
    `            if (xx < -1.0 || xx > ${f32(w)}) {`,
    '              continue;',
    '            }',
    ...alignAxis('x', w, '            '),
    '            if (xLow == px) {',
    '              wx = wx + hx;',
    '            }',
    '            if (xHigh == px) {',
    '              wx = wx + lx;',
    '            }',
    '          }',
    '          if (wx != 0.0) {',
    `            acc = acc + wy * wx / count * dy[((r * ${ph} + ph) * ${pw} + pw) * ${c} + ch];`,
    '          }',
    '        }',
    '      }',
    '    }',
    '  }',
    '  result[index] = acc;',
    '}',
  ].join('\n');
}

/** RoIPool's quantised RoI and bin size (C's round: half away from zero, exact in float32). */
function poolRoiSetup(p: RoiPoolParams, g: RoiGeometry, indent: string): string[] {
  const scale = f32(p.spatialScale);
  const round = (v: string) => `roundHalfAway(rois[r * 5 + ${v}] * ${scale})`;
  return [
    `let sw = ${round('1')};`,
    `let sh = ${round('2')};`,
    `let ew = ${round('3')};`,
    `let eh = ${round('4')};`,
    'let roiW = max(ew - sw + 1, 1);',
    'let roiH = max(eh - sh + 1, 1);',
    `let binH = f32(roiH) / ${f32(g.ph)};`,
    `let binW = f32(roiW) / ${f32(g.pw)};`,
  ].map((l) => indent + l);
}

const ROUND_HALF_AWAY = [
  'fn roundHalfAway(v : f32) -> i32 {',
  '  let a = abs(v);',
  '  let f = floor(a);',
  '  let r = i32(f) + select(0, 1, a - f >= 0.5);',
  '  return select(r, -r, v < 0.0);',
  '}',
].join('\n');

function binRange(axis: 'h' | 'w', size: number, indent: string): string[] {
  const [i, start, bin, s, e] =
    axis === 'h' ? ['ph', 'sh', 'binH', 'hs', 'he'] : ['pw', 'sw', 'binW', 'ws', 'we'];
  return [
    `let ${s} = clamp(i32(floor(f32(${i}) * ${bin})) + ${start}, 0, ${size});`,
    `let ${e} = clamp(i32(ceil(f32(${i} + 1) * ${bin})) + ${start}, 0, ${size});`,
  ].map((l) => indent + l);
}

/** The pooled maximum (`emit: 'value'`) or its flat map index (`'argmax'`, -1 for an empty bin). */
export function roiPoolSource(g: RoiGeometry, p: RoiPoolParams, emit: 'value' | 'argmax'): string {
  const { h, w, c, ph, pw } = g;
  return [
    ROUND_HALF_AWAY,
    '',
    'fn main(index : i32) {',
    `  ${USE_UNIFORMS}`,
    `  if (index >= uniforms.roisShape.x * ${ph * pw * c}) {`,
    '    return;',
    '  }',
    `  let ch = index % ${c};`,
    `  let cell = index / ${c};`,
    `  let pw = cell % ${pw};`,
    `  let ph = (cell / ${pw}) % ${ph};`,
    `  let r = cell / ${pw * ph};`,
    '  let b = i32(rois[r * 5]);',
    ...poolRoiSetup(p, g, '  '),
    ...binRange('h', h, '  '),
    ...binRange('w', w, '  '),
    // -inf start, strictly greater: the first maximum in scan order wins; NaN never does.
    '  var best = -uniforms.INFINITY;',
    '  var at_max = -1;',
    '  for (var yy = hs; yy < he; yy = yy + 1) {',
    '    for (var xx = ws; xx < we; xx = xx + 1) {',
    `      let at = ((b * ${h} + yy) * ${w} + xx) * ${c} + ch;`,
    '      let v = x[at];',
    '      if (v > best) {',
    '        best = v;',
    '        at_max = at;',
    '      }',
    '    }',
    '  }',
    emit === 'argmax'
      ? '  result[index] = at_max;'
      : '  result[index] = select(best, 0.0, he <= hs || we <= ws);',
    '}',
  ].join('\n');
}

export function roiPoolGradSource(g: RoiGeometry, p: RoiPoolParams): string {
  const { n, h, w, c, ph, pw } = g;
  return [
    ROUND_HALF_AWAY,
    '',
    'fn main(index : i32) {',
    `  ${USE_UNIFORMS}`,
    `  if (index >= ${n * h * w * c}) {`,
    '    return;',
    '  }',
    `  let ch = index % ${c};`,
    `  let px = (index / ${c}) % ${w};`,
    `  let py = (index / ${c * w}) % ${h};`,
    `  let n = index / ${c * w * h};`,
    '  var acc = 0.0;',
    '  for (var r = 0; r < uniforms.roisShape.x; r = r + 1) {',
    '    if (i32(rois[r * 5]) != n) {',
    '      continue;',
    '    }',
    ...poolRoiSetup(p, g, '    '),
    `    for (var ph = 0; ph < ${ph}; ph = ph + 1) {`,
    ...binRange('h', h, '      '),
    '      if (py < hs || py >= he) {',
    '        continue;',
    '      }',
    `      for (var pw = 0; pw < ${pw}; pw = pw + 1) {`,
    ...binRange('w', w, '        '),
    '        if (px < ws || px >= we) {',
    '          continue;',
    '        }',
    `        let o = ((r * ${ph} + ph) * ${pw} + pw) * ${c} + ch;`,
    '        if (argmax[o] == index) {',
    '          acc = acc + dy[o];',
    '        }',
    '      }',
    '    }',
    '  }',
    '  result[index] = acc;',
    '}',
  ].join('\n');
}

function geometryKey(g: RoiGeometry): string {
  return `${g.n}x${g.h}x${g.w}x${g.c}_${g.ph}x${g.pw}`;
}

function flatProgram(
  key: string,
  variableNames: string[],
  outputShape: number[],
  source: string,
): WebGPUProgramLike {
  const size = outputShape.reduce((a, b) => a * b, 1);
  return {
    variableNames,
    outputShape,
    shaderKey: key,
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [Math.max(1, Math.ceil(size / ROI_WORKGROUP)), 1, 1],
    workgroupSize: [ROI_WORKGROUP, 1, 1],
    size: false,
    getUserCode: () => source,
  };
}

function alignKey(p: RoiAlignParams): string {
  return `${Math.fround(p.spatialScale)}_s${p.samplingRatio}_${p.aligned ? 'a' : 'u'}`;
}

export function roiAlignProgram(g: RoiGeometry, p: RoiAlignParams, rois: number): WebGPUProgramLike {
  // The map's batch size does not enter the forward shader.
  return flatProgram(
    `resdet_roialign_${g.h}x${g.w}x${g.c}_${g.ph}x${g.pw}_${alignKey(p)}`,
    ['x', 'rois'],
    [rois, g.ph, g.pw, g.c],
    roiAlignSource(g, p),
  );
}

export function roiAlignGradProgram(g: RoiGeometry, p: RoiAlignParams): WebGPUProgramLike {
  return flatProgram(
    `resdet_roialign_grad_${geometryKey(g)}_${alignKey(p)}`,
    ['dy', 'rois'],
    [g.n, g.h, g.w, g.c],
    roiAlignGradSource(g, p),
  );
}

export function roiPoolProgram(
  g: RoiGeometry,
  p: RoiPoolParams,
  rois: number,
  emit: 'value' | 'argmax',
): WebGPUProgramLike {
  return flatProgram(
    `resdet_roipool_${emit}_${g.h}x${g.w}x${g.c}_${g.ph}x${g.pw}_${Math.fround(p.spatialScale)}`,
    ['x', 'rois'],
    [rois, g.ph, g.pw, g.c],
    roiPoolSource(g, p, emit),
  );
}

export function roiPoolGradProgram(g: RoiGeometry, p: RoiPoolParams): WebGPUProgramLike {
  return flatProgram(
    `resdet_roipool_grad_${geometryKey(g)}_${Math.fround(p.spatialScale)}`,
    ['dy', 'argmax', 'rois'],
    [g.n, g.h, g.w, g.c],
    roiPoolGradSource(g, p),
  );
}

function geometry(shape: readonly number[], p: { pooledHeight: number; pooledWidth: number }): RoiGeometry {
  return { ...mapShape(shape), ph: p.pooledHeight, pw: p.pooledWidth };
}

function checkFloat(op: string, ...ts: tf.TensorInfo[]): void {
  for (const t of ts)
    if (t.dtype !== 'float32') throw new Error(`${op} on webgpu: expected float32 inputs, got ${t.dtype}`);
}

/** An empty RoI list still needs a well-formed (zero-size) result without a dispatch. */
function emptyOutput(backend: unknown, shape: number[], dtype: tf.DataType): tf.TensorInfo {
  return (backend as { makeTensorInfo(s: number[], d: tf.DataType): tf.TensorInfo }).makeTensorInfo(
    shape,
    dtype,
  );
}

export const roiWebgpuKernels: readonly tf.KernelConfig[] = [
  {
    kernelName: ROI_ALIGN,
    backendName: 'webgpu',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const { x, rois } = inputs as { x: tf.TensorInfo; rois: tf.TensorInfo };
      const p = attrs as unknown as RoiAlignParams;
      checkFloat(ROI_ALIGN, x, rois);
      const shape = pooledShape(rois, x.shape, p);
      if (rois.shape[0] === 0) return emptyOutput(backend, shape, 'float32');
      const program = roiAlignProgram(geometry(x.shape, p), p, rois.shape[0]);
      return asWebgpuBackend(backend).runWebGPUProgram(program, [x, rois], 'float32');
    },
  },
  {
    kernelName: ROI_ALIGN_GRAD,
    backendName: 'webgpu',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const { dy, rois } = inputs as { dy: tf.TensorInfo; rois: tf.TensorInfo };
      const p = attrs as unknown as RoiAlignParams & RoiGradAttrs;
      checkFloat(ROI_ALIGN_GRAD, dy, rois);
      const program = roiAlignGradProgram(geometry(p.inputShape, p), p);
      return asWebgpuBackend(backend).runWebGPUProgram(program, [dy, rois], 'float32');
    },
  },
  {
    kernelName: ROI_POOL,
    backendName: 'webgpu',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const { x, rois } = inputs as { x: tf.TensorInfo; rois: tf.TensorInfo };
      const p = attrs as unknown as RoiPoolParams;
      checkFloat(ROI_POOL, x, rois);
      const shape = pooledShape(rois, x.shape, p);
      if (rois.shape[0] === 0)
        return [emptyOutput(backend, shape, 'float32'), emptyOutput(backend, shape, 'int32')];
      const g = geometry(x.shape, p);
      const gpu = asWebgpuBackend(backend);
      return [
        gpu.runWebGPUProgram(roiPoolProgram(g, p, rois.shape[0], 'value'), [x, rois], 'float32'),
        gpu.runWebGPUProgram(roiPoolProgram(g, p, rois.shape[0], 'argmax'), [x, rois], 'int32'),
      ];
    },
  },
  {
    kernelName: ROI_POOL_GRAD,
    backendName: 'webgpu',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const { dy, argmax, rois } = inputs as {
        dy: tf.TensorInfo;
        argmax: tf.TensorInfo;
        rois: tf.TensorInfo;
      };
      const p = attrs as unknown as RoiPoolParams & RoiGradAttrs;
      checkFloat(ROI_POOL_GRAD, dy, rois);
      const program = roiPoolGradProgram(geometry(p.inputShape, p), p);
      return asWebgpuBackend(backend).runWebGPUProgram(program, [dy, argmax, rois], 'float32');
    },
  },
];
