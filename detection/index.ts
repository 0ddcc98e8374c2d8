export * from './boxes.js';
export * from './nms.js';
export * from './box-coder.js';
export * from './anchors.js';
export * from './roi-pool.js';
export * from './roi-align.js';
export * from './eval/index.js';
