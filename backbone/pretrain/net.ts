import type * as tf from '@tensorflow/tfjs';
import type { SafeTensor, SafetensorsFile } from '../../core/safetensors.js';
import type { NamedParam } from '../../core/train/sgd.js';

/** What pretraining needs from a classifier network (the backbone's ResNet, wrapped in model.ts). */
export interface ClassifierNet {
  readonly arch: string;
  /** Depth in weighted layers (20 for ResNet-20); the CIFAR recipe warms up nets of 110 and more. */
  readonly depth: number;
  /** Logits [N, classes]; `training` uses batch statistics and updates BN running averages. */
  apply(x: tf.Tensor4D, training: boolean): tf.Tensor2D;
  /** Trainable parameters by torchvision state_dict name. */
  params(): NamedParam[];
  /** Parameters and BN buffers by torchvision name, as safetensors tensors. */
  stateDict(): Promise<Record<string, SafeTensor>>;
  loadStateDict(file: SafetensorsFile): void;
  /** Hyper-parameters that rebuild the same network (stored as the checkpoint's `model`). */
  modelConfig(): Record<string, unknown>;
  dispose(): void;
}
