export * from './image-set.js';
export * from './read-text.js';
export * from './results.js';
export * from './voc-xml.js';
