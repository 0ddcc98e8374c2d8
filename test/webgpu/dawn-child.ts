import { fileURLToPath } from 'node:url';
import type { ShaderSource } from '../../core/webgpu/dawn.js';
import { spawnDawnChild } from './spawn-dawn.js';

const CHILD = fileURLToPath(new URL('./compile-child.ts', import.meta.url));

/** The child's answer: its last stdout line, one error string per shader, or null if incomplete. */
function parseAnswer(stdout: string, count: number): string[] | null {
  const lines = stdout.trim().split('\n');
  try {
    const answer: unknown = JSON.parse(lines[lines.length - 1]);
    if (Array.isArray(answer) && answer.length === count && answer.every((e) => typeof e === 'string')) {
      return answer as string[];
    }
  } catch {
    // not (yet) an answer
  }
  return null;
}

/**
 * Compiles shaders with Dawn's null backend in a child process; one error string per shader.
 * A compile error is an answer, not a failed run, so the child's retries cannot hide one.
 */
export function compileInChild(shaders: ShaderSource[]): string[] {
  const run = spawnDawnChild([CHILD], {
    input: JSON.stringify(shaders),
    timeoutMs: 30_000,
    answered: (stdout) => parseAnswer(stdout, shaders.length) !== null,
  });
  const answer = parseAnswer(run.stdout, shaders.length);
  if (answer) return answer;
  const tries = [...run.attempts, `status ${run.status}, signal ${run.signal}: ${run.stderr.slice(-2000)}`];
  throw new Error(`Dawn compile child failed ${run.attempts.length + 1} time(s):\n${tries.join('\n')}`);
}
