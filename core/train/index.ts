export * from './loop.js';
export * from './metrics.js';
export * from './schedule.js';
export * from './sgd.js';
export * from './resume.js';
