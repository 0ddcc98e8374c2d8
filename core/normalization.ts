/**
 * Per-channel pixel normalisation, (x - mean) / std on RGB values in [0, 1]: the one type for it
 * (classifier transforms, pretraining batches and a checkpoint's preprocessing all use it).
 */
export interface Normalization {
  mean: readonly number[];
  std: readonly number[];
}

/** torchvision's ImageNet normalisation (RGB in [0, 1]). */
export const IMAGENET_MEAN: [number, number, number] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: [number, number, number] = [0.229, 0.224, 0.225];
