export * from './config.js';
export * from './plan.js';
export * from './params.js';
export { BN_EPS, BN_MOMENTUM } from './layers.js';
export * from './resnet.js';
export * from './imagenet.js';
export * from './classifier.js';
export * from './catalog.js';
export * from './pretrain/index.js';
