import { condToWgsl, letsToWgsl, toWgsl } from './expr.js';
import type { GemmView, Operand } from './gemm-views.js';
import {
  fragmentA,
  fragmentB,
  outputIndex,
  prologue,
  type Schedule,
  storeTarget,
  tileLoad,
} from './schedule.js';

/**
 * WGSL generators: pure functions of the GEMM view (conv geometry) and the schedule. They emit
 * the body tfjs-backend-webgpu's program wrapper expects: `fn main()` (non-flat dispatch) or
 * `fn main(index : i32)` (flat), reading the built-ins tfjs's `_start` stores in private
 * variables (localIndex, workgroupId), the inputs by their variableNames and writing `result`.
 * Sizes are baked in as constants, so the shader key must carry every parameter.
 */

/**
 * tfjs binds its uniforms buffer to every program, but a pipeline with layout 'auto' only has the
 * bindings its shader uses: sizes are constants here, so touch the uniforms once to keep it.
 */
const USE_UNIFORMS = '_ = uniforms.NAN;';

const SHARED_A = 'rd_tileA';
const SHARED_B = 'rd_tileB';

function loadBlock(s: Schedule, op: Operand, which: 'a' | 'b', i: number, indent: string): string {
  const load = tileLoad(s, which, op.contiguous, i);
  const access = op.access(load.gOuter, load.gk, '');
  const inner = `${indent}    `;
  const read = `${op.buffer}[${toWgsl(access.index)}]`;
  const body =
    access.valid.kind === 'const' && access.valid.value === 1
      ? `${inner}value = ${read};`
      : `${inner}if (${condToWgsl(access.valid)}) {\n${inner}  value = ${read};\n${inner}}`;
  return [
    `${indent}{`,
    letsToWgsl(load.lets, `${indent}  `),
    `${indent}  var value = 0.0;`,
    `${indent}  if (${condToWgsl(load.inRange)}) {`,
    letsToWgsl(access.lets, inner),
    body,
    `${indent}  }`,
    `${indent}  ${which === 'a' ? SHARED_A : SHARED_B}[${toWgsl(load.shared)}] = value;`,
    `${indent}}`,
  ]
    .filter((line) => line !== '')
    .join('\n');
}

/** The tiled GEMM kernel (one split's partial product when splitK > 1). */
export function gemmKernelSource(view: GemmView, s: Schedule): string {
  const lines: string[] = [];
  lines.push(`var<workgroup> ${SHARED_A} : array<f32, ${s.tileK * s.strideA}>;`);
  lines.push(`var<workgroup> ${SHARED_B} : array<f32, ${s.tileK * s.strideB}>;`);
  lines.push('');
  lines.push('fn main() {');
  lines.push(`  ${USE_UNIFORMS}`);
  lines.push('  let lid = i32(localIndex);');
  lines.push('  let wgx = i32(workgroupId.x);');
  lines.push('  let wgy = i32(workgroupId.y);');
  lines.push('  let wgz = i32(workgroupId.z);');
  lines.push(letsToWgsl(prologue(s), '  '));
  const regs = s.threadM * s.threadN;
  lines.push(`  var acc : array<f32, ${regs}>;`);
  lines.push(`  for (var kt = 0; kt < ${s.kSteps}; kt = kt + 1) {`);
  for (let i = 0; i < s.loadsA; i++) lines.push(loadBlock(s, view.a, 'a', i, '    '));
  for (let i = 0; i < s.loadsB; i++) lines.push(loadBlock(s, view.b, 'b', i, '    '));
  lines.push('    workgroupBarrier();');
  lines.push(`    for (var kk = 0; kk < ${s.tileK}; kk = kk + 1) {`);
  for (let i = 0; i < s.threadM; i++)
    lines.push(`      let a${i} = ${SHARED_A}[${toWgsl(fragmentA(s, i))}];`);
  for (let j = 0; j < s.threadN; j++)
    lines.push(`      let b${j} = ${SHARED_B}[${toWgsl(fragmentB(s, j))}];`);
  for (let i = 0; i < s.threadM; i++) {
    for (let j = 0; j < s.threadN; j++) {
      const r = i * s.threadN + j;
      lines.push(`      acc[${r}] = fma(a${i}, b${j}, acc[${r}]);`);
    }
  }
  lines.push('    }');
  lines.push('    workgroupBarrier();');
  lines.push('  }');
  for (let i = 0; i < s.threadM; i++) {
    for (let j = 0; j < s.threadN; j++) {
      const target = storeTarget(s, i, j);
      lines.push('  {');
      lines.push(letsToWgsl(target.lets, '    '));
      lines.push(`    if (${condToWgsl(target.inRange)}) {`);
      lines.push(
        `      result[${toWgsl(outputIndex(s, view, target.gm, target.gn))}] = acc[${i * s.threadN + j}];`,
      );
      lines.push('    }');
      lines.push('  }');
    }
  }
  lines.push('}');
  return lines.filter((line) => line !== '').join('\n');
}

/** Workgroup size of the split-K reduction pass. */
export const REDUCE_WORKGROUP = 64;

/** Second pass of split-K: result[i] = sum over z of partial[z*size + i], in split order. */
export function splitKReduceSource(size: number, splitK: number): string {
  return [
    'fn main(index : i32) {',
    `  ${USE_UNIFORMS}`,
    `  if (index < ${size}) {`,
    '    var sum = 0.0;',
    `    for (var z = 0; z < ${splitK}; z = z + 1) {`,
    `      sum = sum + partial[z * ${size} + index];`,
    '    }',
    '    result[index] = sum;',
    '  }',
    '}',
  ].join('\n');
}

/**
 * A complete module around a kernel body with the declarations tfjs-backend-webgpu puts in front
 * of it (bindings, private built-ins, the `_start` entry point), for compiling generated code
 * without tfjs: `resdet` tests hand it to Dawn's shader compiler.
 */
export function standaloneModule(
  body: string,
  inputs: readonly string[],
  workgroupSize: [number, number, number],
  flat: boolean,
): string {
  const bindings = [
    '@group(0) @binding(0) var<storage, read_write> result : array<f32>;',
    ...inputs.map((name, i) => `@group(0) @binding(${i + 1}) var<storage, read> ${name} : array<f32>;`),
    'struct Uniforms { NAN : f32, INFINITY : f32 };',
    `@group(0) @binding(${inputs.length + 1}) var<uniform> uniforms : Uniforms;`,
  ];
  return [
    ...bindings,
    'var<private> localId : vec3<u32>;',
    'var<private> localIndex : u32;',
    'var<private> globalId : vec3<u32>;',
    'var<private> numWorkgroups : vec3<u32>;',
    'var<private> workgroupId : vec3<u32>;',
    body,
    `@compute @workgroup_size(${workgroupSize.join(', ')})`,
    'fn _start(@builtin(local_invocation_id) LocalId : vec3<u32>,',
    '          @builtin(global_invocation_id) GlobalId : vec3<u32>,',
    '          @builtin(local_invocation_index) LocalIndex : u32,',
    '          @builtin(workgroup_id) WorkgroupId : vec3<u32>,',
    '          @builtin(num_workgroups) NumWorkgroups : vec3<u32>) {',
    '  localId = LocalId;',
    '  localIndex = LocalIndex;',
    '  globalId = GlobalId;',
    '  numWorkgroups = NumWorkgroups;',
    '  workgroupId = WorkgroupId;',
    flat ? '  main(i32(GlobalId.x));' : '  main();',
    '}',
  ].join('\n');
}
