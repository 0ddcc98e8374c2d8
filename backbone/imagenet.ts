import { readFileSync } from 'node:fs';
import { assetPath } from '../core/paths.js';

let cached: string[] | undefined;

/** The 1000 ImageNet class names in torchvision's order (index = logit index), shipped with the package. */
export function imagenetClasses(): string[] {
  if (!cached) {
    cached = JSON.parse(readFileSync(assetPath('backbone/imagenet-classes.json'), 'utf8')) as string[];
  }
  return [...cached];
}
