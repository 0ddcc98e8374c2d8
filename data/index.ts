export * from './coco/index.js';
export * from './detection/index.js';
export * from './synth/index.js';
export * from './seed.js';
export * from './workers/index.js';
export * from './classification/index.js';
export * from './download.js';
export { type DecodeOptions, decodeImage, type RgbImage } from './image/decode.js';
export * from './formats/index.js';
