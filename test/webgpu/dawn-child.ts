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
 * A compile error is an answer, not a failed run, so retries cannot hide one. A batch whose child
 * keeps dying is compiled again in halves (in CI dawn.node aborted twice on the 60-shader batch
 * while the 3-shader ones passed), so a crash only fails the test when one shader alone causes it.
 */
export function compileInChild(shaders: ShaderSource[]): string[] {
  const run = spawnDawnChild([CHILD], {
    input: JSON.stringify(shaders),
    timeoutMs: 30_000,
    answered: (stdout) => parseAnswer(stdout, shaders.length) !== null,
  });
  const answer = parseAnswer(run.stdout, shaders.length);
  if (answer) return answer;
  if (run.status === null && shaders.length > 1) {
    const half = Math.ceil(shaders.length / 2);
    return [...compileInChild(shaders.slice(0, half)), ...compileInChild(shaders.slice(half))];
  }
  // Every start killed by a signal is in `attempts`; an exit code ends the starts, so add its own.
  const tries =
    run.status === null ? run.attempts : [...run.attempts, `exit ${run.status}: ${run.stderr.slice(-2000)}`];
  const what = shaders.length === 1 ? shaders[0].label : `${shaders.length} shaders`;
  throw new Error(`Dawn compile child failed on ${what} ${tries.length} time(s):\n${tries.join('\n')}`);
}
