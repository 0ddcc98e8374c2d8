export * from './types.js';
export * from './json-stream.js';
export * from './read-json.js';
export * from './dataset.js';
export * from './load.js';
export * from './results-fast.js';
export { RecordRef } from './validate.js';
