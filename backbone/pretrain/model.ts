import type * as tf from '@tensorflow/tfjs';
import { ResdetError } from '../../core/errors.js';
import type { SafetensorsFile } from '../../core/safetensors.js';
import { type ResNetConfig, RESNET_ARCHS, resnetConfig, validateConfig } from '../config.js';
import { trainableParams } from '../params.js';
import { buildResNet, type ResNet } from '../resnet.js';
import type { ClassifierNet } from './net.js';

/** Weighted layers of a config: 2 per basic block, 3 per bottleneck, plus the stem conv and fc. */
export function configDepth(c: ResNetConfig): number {
  return c.layers.reduce((a, b) => a + b, 0) * (c.block === 'basic' ? 2 : 3) + 2;
}

/**
 * Config for `arch` with the data's classes and channels. Besides the named nets, any CIFAR depth
 * 6n+2 is accepted as resnetD / plainD (resnet8 is the tiny net the tests train).
 */
export function pretrainConfig(
  arch: string,
  opts: { classes: number; inChannels: number; seed: number; width?: number },
): ResNetConfig {
  const overrides: Partial<ResNetConfig> = {
    numClasses: opts.classes,
    inChannels: opts.inChannels,
    seed: opts.seed,
    ...(opts.width ? { baseWidth: opts.width } : {}),
  };
  if (RESNET_ARCHS[arch]) return resnetConfig(arch, overrides);
  const m = /^(resnet|plain)(\d+)$/.exec(arch);
  const depth = m ? Number(m[2]) : Number.NaN;
  if (!m || (depth - 2) % 6 !== 0 || depth < 8) {
    throw new ResdetError(
      `unknown architecture "${arch}"`,
      `choose one of: ${Object.keys(RESNET_ARCHS).join(', ')}, or a CIFAR depth 6n+2 such as resnet8`,
    );
  }
  const n = (depth - 2) / 6;
  const base = resnetConfig(m[1] === 'resnet' ? 'resnet20' : 'plain20', overrides);
  const config = { ...base, layers: [n, n, n] };
  validateConfig(config);
  return config;
}

/** The backbone's ResNet seen through the interface pretraining uses. */
export class ResNetClassifier implements ClassifierNet {
  readonly arch: string;
  readonly net: ResNet;

  constructor(arch: string, config: ResNetConfig) {
    this.arch = arch;
    this.net = buildResNet(config);
  }

  get depth(): number {
    return configDepth(this.net.config);
  }

  apply(x: tf.Tensor4D, training: boolean): tf.Tensor2D {
    return this.net.forward(x, training);
  }

  params() {
    return trainableParams(this.net.params.all());
  }

  stateDict() {
    return this.net.stateDict();
  }

  loadStateDict(file: SafetensorsFile): void {
    this.net.loadStateDict(file);
  }

  modelConfig(): Record<string, unknown> {
    return { ...this.net.config };
  }

  dispose(): void {
    this.net.dispose();
  }
}

/** Rebuilds a classifier from a checkpoint's `model` field. */
export function classifierFromConfig(
  arch: string,
  model: Record<string, unknown> | undefined,
): ResNetClassifier {
  if (!model || !Array.isArray(model.layers)) {
    throw new ResdetError(`checkpoint for "${arch}" has no ResNet config in its "model" field`);
  }
  const config = model as unknown as ResNetConfig;
  validateConfig(config);
  return new ResNetClassifier(arch, config);
}
