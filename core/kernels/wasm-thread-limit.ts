/**
 * The most XNNPACK threads resdet asks the threaded build for (RESDET_WASM_THREADS, --threads).
 * Apart from wasm-threads.ts so the CLI's option parsers can use it without loading TF.js.
 */
export const MAX_WASM_THREADS = 8;
