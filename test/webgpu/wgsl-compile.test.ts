import { describe, expect, it } from 'vitest';
import { convParams } from '../../core/conv-params.js';
import type { ShaderSource } from '../../core/webgpu/dawn.js';
import { filterGradView, inputGradPhaseViews, inputGradView } from '../../core/webgpu/gemm-views.js';
import { DEFAULT_TILES, makeSchedule } from '../../core/webgpu/schedule.js';
import {
  gemmKernelSource,
  REDUCE_WORKGROUP,
  splitKReduceSource,
  standaloneModule,
} from '../../core/webgpu/wgsl.js';
import { RESNET_CASES } from './cases.js';
import { compileInChild } from './dawn-child.js';

/** Structural checks that need no compiler: braces balance, only declared buffers are read. */
function structure(src: string, inputs: readonly string[]): string[] {
  const problems: string[] = [];
  let depth = 0;
  for (const ch of src) {
    if (ch === '{') depth++;
    if (ch === '}') depth--;
    if (depth < 0) problems.push('a } closes nothing');
  }
  if (depth !== 0) problems.push(`braces unbalanced by ${depth}`);
  const indexed = new Set([...src.matchAll(/([A-Za-z_]\w*)\[/g)].map((m) => m[1]));
  const allowed = new Set(['result', 'acc', 'rd_tileA', 'rd_tileB', 'array', ...inputs]);
  for (const name of indexed) if (!allowed.has(name)) problems.push(`indexes undeclared ${name}`);
  return problems;
}

// ResNet-50's real shapes at batch 64 (the benchmark's): the stem's filter gradient takes the
// automatic split-K, layer1's 3x3 input gradient the largest grid.
const STEM = convParams({
  batch: 64,
  inHeight: 224,
  inWidth: 224,
  inChannels: 3,
  outChannels: 64,
  filter: 7,
  stride: 2,
  pad: 3,
});
const LAYER1 = convParams({
  batch: 64,
  inHeight: 56,
  inWidth: 56,
  inChannels: 64,
  outChannels: 64,
  filter: 3,
  pad: 1,
});

describe('generated WGSL', () => {
  it("compiles with Dawn's shader compiler (null backend) for every ResNet conv, both gradients", () => {
    const failures: string[] = [];
    const shaders: ShaderSource[] = [];
    for (const { name, params } of RESNET_CASES) {
      for (const view of [filterGradView(params), inputGradView(params)]) {
        for (const splitK of view.kind === 'filter' ? [1, 2] : [1]) {
          const s = makeSchedule(view, { tiles: DEFAULT_TILES, splitK });
          const body = gemmKernelSource(view, s);
          failures.push(...structure(body, view.inputs).map((m) => `${name} ${view.kind}: ${m}`));
          const code = standaloneModule(body, view.inputs, [s.wgX, s.wgY, 1], false);
          shaders.push({ label: `${view.kind} ${name} k${s.splitK}`, code });
        }
      }
    }
    expect(shaders.length).toBe(RESNET_CASES.length * 3);
    for (const { name, params } of RESNET_CASES.filter((c) => c.params.strideHeight > 1)) {
      for (const view of inputGradPhaseViews(params)) {
        const s = makeSchedule(view, { tiles: DEFAULT_TILES });
        const body = gemmKernelSource(view, s);
        failures.push(...structure(body, view.inputs).map((m) => `${name} phase ${view.phase}: ${m}`));
        const code = standaloneModule(body, view.inputs, [s.wgX, s.wgY, 1], false);
        shaders.push({ label: `input ${name} phase ${view.phase}`, code });
      }
    }
    failures.push(...compileInChild(shaders).filter(Boolean));
    expect(failures).toEqual([]);
  });

  it('compiles ResNet-50 batch-64 shapes and the split-K reduction', () => {
    const stem = filterGradView(STEM);
    const s = makeSchedule(stem);
    expect(s.splitK).toBeGreaterThan(1);
    const l1 = inputGradView(LAYER1);
    const t = makeSchedule(l1);
    const errors = compileInChild([
      {
        label: 'stem filter',
        code: standaloneModule(gemmKernelSource(stem, s), stem.inputs, [s.wgX, s.wgY, 1], false),
      },
      {
        label: 'reduce',
        code: standaloneModule(
          splitKReduceSource(s.M * s.N, s.splitK),
          ['partial'],
          [REDUCE_WORKGROUP, 1, 1],
          true,
        ),
      },
      {
        label: 'layer1 input',
        code: standaloneModule(gemmKernelSource(l1, t), l1.inputs, [t.wgX, t.wgY, 1], false),
      },
    ]);
    expect(errors).toEqual(['', '', '']);
  });

  it('reports errors (the compile check is not vacuous)', () => {
    const view = filterGradView(RESNET_CASES[0].params);
    const s = makeSchedule(view, { tiles: DEFAULT_TILES, splitK: 1 });
    // Without its input bindings the kernel must fail to compile.
    const good = standaloneModule(gemmKernelSource(view, s), view.inputs, [s.wgX, s.wgY, 1], false);
    const broken = standaloneModule(gemmKernelSource(view, s), [], [s.wgX, s.wgY, 1], false);
    // Too many invocations per workgroup: the pipeline (not the parser) must refuse it.
    const oversized = standaloneModule(gemmKernelSource(view, s), view.inputs, [32, 32, 1], false);
    const errors = compileInChild([
      { label: 'broken', code: broken },
      { label: 'good', code: good },
      { label: 'oversized', code: oversized },
    ]);
    expect(errors[0]).toMatch(/broken: .*x/s);
    expect(errors[1]).toBe('');
    expect(errors[2]).toMatch(/oversized: .*/s);
    expect(structure('fn main() { x[0] = 1.0; ', ['x'])).toContain('braces unbalanced by 1');
  });
});
