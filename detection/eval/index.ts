export * from './coco.js';
export * from './coco-params.js';
