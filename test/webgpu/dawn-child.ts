import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ShaderSource } from '../../core/webgpu/dawn.js';

const CHILD = fileURLToPath(new URL('./compile-child.ts', import.meta.url));

/**
 * Compiles shaders with Dawn's null backend in a child process; one error string per shader.
 * dawn.node occasionally aborts or hangs in this project's sandbox (futex errors) before it
 * answers; such a run (killed by a signal, timed out) is retried once. A compile error is an
 * answer, not a failed run, so the retry cannot hide one.
 */
export function compileInChild(shaders: ShaderSource[]): string[] {
  let last = '';
  for (let attempt = 0; attempt < 2; attempt++) {
    const run = spawnSync(process.execPath, ['--import', 'tsx', CHILD], {
      input: JSON.stringify(shaders),
      encoding: 'utf8',
      timeout: 30_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    if (run.status === 0) {
      const lines = run.stdout.trim().split('\n');
      return JSON.parse(lines[lines.length - 1]) as string[];
    }
    last = `status ${run.status}, signal ${run.signal}: ${run.stderr.slice(-2000)}`;
    if (run.status !== null) break; // a real exit code: the child itself failed, do not retry
  }
  throw new Error(`Dawn compile child failed (${last})`);
}
