export * from './write-set.js';
export { SHAPE_CLASSES, renderShapesImage, type SynthImage, type SynthObject } from './shapes.js';
export { FASHION_CLASSES, FASHION_MNIST_DIR, readFashionMnist, renderFashionImage } from './fashion.js';
