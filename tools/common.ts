import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import type { BackendName } from '../core/backend.js';
import { UsageError } from '../core/errors.js';
import { MAX_WASM_THREADS } from '../core/kernels/wasm-thread-limit.js';

/** Options every command sees (declared on the root program). */
export interface GlobalOptions {
  backend?: string;
  verbose?: boolean;
}

export function globalOptions(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

/** Initialises the backend the user asked for (flag > RESDET_BACKEND > auto). */
export async function useBackend(cmd: Command): Promise<BackendName> {
  const { backend } = globalOptions(cmd);
  // Loaded here, not at the top: commands without a model (eval, data stats) never load TF.js.
  const { initBackend, requestedBackend } = await import('../core/backend.js');
  const selection = await initBackend(requestedBackend(backend));
  return selection.backend;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function verboseLog(cmd: Command, line: string): void {
  if (globalOptions(cmd).verbose) process.stderr.write(`${line}\n`);
}

/** Parsers for commander options that turn bad values into usage errors (exit 2). */
export function parseIntOption(name: string, min = Number.NEGATIVE_INFINITY, max = Number.POSITIVE_INFINITY) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new UsageError(
        `${name}: expected an integer ${max === Number.POSITIVE_INFINITY ? `>= ${min}` : `from ${min} to ${max}`}, got "${value}"`,
      );
    return n;
  };
}

/** Bounds for parseFloatOption: `above` is exclusive (a learning rate must be > 0, not >= 0). */
export interface NumberRange {
  min?: number;
  above?: number;
  max?: number;
}

function describeRange({ min, above, max }: NumberRange): string {
  const low = above !== undefined ? `> ${above}` : min !== undefined ? `>= ${min}` : undefined;
  if (min !== undefined && max !== undefined) return `a number from ${min} to ${max}`;
  if (low && max !== undefined) return `a number ${low} and <= ${max}`;
  if (low) return `a number ${low}`;
  return max !== undefined ? `a number <= ${max}` : 'a number';
}

export function parseFloatOption(name: string, range: NumberRange = {}) {
  return (value: string): number => {
    const n = Number(value);
    const ok =
      value.trim() !== '' &&
      Number.isFinite(n) &&
      (range.min === undefined || n >= range.min) &&
      (range.above === undefined || n > range.above) &&
      (range.max === undefined || n <= range.max);
    if (!ok) throw new UsageError(`${name}: expected ${describeRange(range)}, got "${value}"`);
    return n;
  };
}

export function parseListOption(name: string) {
  return (value: string): number[] =>
    value.split(',').map((part) => {
      const n = Number(part.trim());
      if (!Number.isFinite(n))
        throw new UsageError(`${name}: expected comma-separated numbers, got "${value}"`);
      return n;
    });
}

/**
 * `--threads N`: XNNPACK threads for the wasm backend, read when it is first initialised. Long
 * jobs (training, benchmarks) default to every core: the threaded build's start-up (~1.6 s,
 * ~150 MB) is nothing against minutes of training, which it speeds up ~1.4x on 2 cores. Short
 * commands keep the single-threaded build. RESDET_WASM_THREADS, when set, wins over the default.
 */
export function applyWasmThreads(threads: number | undefined, job: 'long' | 'short' = 'short'): void {
  if (threads !== undefined) process.env.RESDET_WASM_THREADS = String(threads);
  else if (job === 'long' && !process.env.RESDET_WASM_THREADS?.trim())
    process.env.RESDET_WASM_THREADS = String(longJobWasmThreads());
}

/** Every core, within the threaded build's 1-MAX_WASM_THREADS. */
export function longJobWasmThreads(): number {
  return Math.max(1, Math.min(MAX_WASM_THREADS, availableParallelism()));
}

export const WASM_THREADS_HELP = `wasm backend: XNNPACK threads (default: every core, 1-${MAX_WASM_THREADS}; sets RESDET_WASM_THREADS)`;

/** The commander parser of every long job's `--threads`. */
export const parseThreadsOption = parseIntOption('--threads', 1, MAX_WASM_THREADS);
