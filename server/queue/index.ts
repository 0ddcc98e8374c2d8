export * from './run.js';
export * from './redis.js';
export * from './submit.js';
export * from './worker.js';
export * from './inspect.js';
export * from './collect.js';
