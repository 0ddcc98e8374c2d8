export {};
export * from './coco/index.js';
