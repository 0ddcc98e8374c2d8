import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ShaderSource } from '../../core/webgpu/dawn.js';

const CHILD = fileURLToPath(new URL('./compile-child.ts', import.meta.url));

/** Compiles shaders with Dawn's null backend in a child process; one error string per shader. */
export function compileInChild(shaders: ShaderSource[]): string[] {
  const run = spawnSync(process.execPath, ['--import', 'tsx', CHILD], {
    input: JSON.stringify(shaders),
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.status !== 0) {
    throw new Error(
      `Dawn compile child failed (status ${run.status}, signal ${run.signal}): ${run.stderr.slice(-2000)}`,
    );
  }
  const lines = run.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as string[];
}
