import type { Command } from 'commander';
import { type BackendName, initBackend, requestedBackend } from '../core/backend.js';
import { UsageError } from '../core/errors.js';

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
export function parseIntOption(name: string, min = Number.NEGATIVE_INFINITY) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min)
      throw new UsageError(`${name}: expected an integer >= ${min}, got "${value}"`);
    return n;
  };
}

export function parseFloatOption(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n)) throw new UsageError(`${name}: expected a number, got "${value}"`);
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

/** `--threads N`: XNNPACK threads for the wasm backend, read when it is first initialised. */
export function applyWasmThreads(threads: number | undefined): void {
  if (threads !== undefined) process.env.RESDET_WASM_THREADS = String(threads);
}

export const WASM_THREADS_HELP =
  'wasm backend: XNNPACK threads (sets RESDET_WASM_THREADS; the core count trains fastest, e.g. 2 gives ~1.4x on 2 cores)';
