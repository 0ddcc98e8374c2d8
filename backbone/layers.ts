import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../core/rng.js';
import type { ParamStore } from './params.js';
import type { ConvSpec } from './plan.js';

/** torch's BatchNorm2d defaults: eps 1e-5, running statistics updated with momentum 0.1. */
export const BN_EPS = 1e-5;
export const BN_MOMENTUM = 0.1;

let runningStatsFrozen = 0;

/**
 * Runs `fn` with BN layers in training mode using batch statistics but leaving their running
 * statistics alone: for a forward pass that is repeated on the gradient tape (the detector reads
 * its RPN outputs first), so the statistics move once per step, not twice.
 */
export function withoutRunningStatsUpdate<T>(fn: () => T): T {
  runningStatsFrozen++;
  try {
    return fn();
  } finally {
    runningStatsFrozen--;
  }
}

/** True while TF.js records a gradient tape (inside tf.grads / variableGrads / minimize). */
function recordingGradients(): boolean {
  return (tf.engine().state as { gradientDepth: number }).gradientDepth > 0;
}

function heNormal(rng: Rng | null, shape: number[], fanOut: number): tf.Tensor {
  if (!rng) return tf.zeros(shape);
  // torchvision: kaiming_normal_(mode="fan_out", nonlinearity="relu"), std = sqrt(2 / fan_out).
  const std = Math.sqrt(2 / fanOut);
  const n = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = rng.normal() * std;
  return tf.tensor(values, shape, 'float32');
}

/**
 * torchvision's symmetric zero padding for a k x k conv with the given stride. Stride 1 with
 * pad (k-1)/2 is exactly TF's 'same'. Strided convs need numeric padding (TF's 'same' pads
 * 0 before / 1 after for a 3x3/2 on even sizes, which moves the sampling grid); tfjs-node's
 * kernels accept only 'valid' and 'same', so on the `tensorflow` backend the input is padded
 * with an explicit tf.pad and convolved 'valid' (same numbers, one extra op).
 */
export function symmetricPad(
  x: tf.Tensor4D,
  pad: number,
  k: number,
  stride: number,
  explicit = tf.getBackend() === 'tensorflow',
): { input: tf.Tensor4D; pad: number | 'valid' | 'same' } {
  if (pad === 0) return { input: x, pad: 'valid' };
  if (stride === 1 && 2 * pad === k - 1) return { input: x, pad: 'same' };
  if (!explicit) return { input: x, pad };
  const input = tf.pad(x, [
    [0, 0],
    [pad, pad],
    [pad, pad],
    [0, 0],
  ]);
  return { input, pad: 'valid' };
}

interface FoldedWeights {
  filter: tf.Tensor4D;
  bias: tf.Tensor1D;
  /** The variables' data ids when folded: any assignment (optimizer step, load) changes them. */
  ids: readonly object[];
}

/**
 * A convolution (no bias, as in torchvision) followed by its BatchNorm, optionally by ReLU.
 * With batch statistics (training and BN not frozen) it runs conv, moments, batchNorm; otherwise
 * the BN is folded into the conv's weights and bias and it runs one tf.fused.conv2d with the ReLU
 * fused in. In inference the folded weights are cached until a variable changes.
 */
export class ConvBn {
  readonly spec: ConvSpec;
  readonly weight: tf.Variable;
  readonly gamma: tf.Variable;
  readonly beta: tf.Variable;
  readonly runningMean: tf.Variable;
  readonly runningVar: tf.Variable;
  readonly numBatchesTracked: tf.Variable;
  /** Running statistics and fixed affine even in training mode. */
  frozen = false;
  /** BN epsilon: torch's 1e-5, or 0 for torchvision's published FPN v1 (FrozenBatchNorm2d run with eps 0). */
  eps = BN_EPS;
  private folded?: FoldedWeights;

  constructor(store: ParamStore, spec: ConvSpec, rng: Rng | null, zeroGamma = false) {
    this.spec = spec;
    const { k, inC, outC } = spec;
    this.weight = store.add(`${spec.name}.weight`, heNormal(rng, [k, k, inC, outC], outC * k * k), 'conv');
    this.gamma = store.add(`${spec.bn}.weight`, zeroGamma ? tf.zeros([outC]) : tf.ones([outC]), 'vector');
    this.beta = store.add(`${spec.bn}.bias`, tf.zeros([outC]), 'vector');
    this.runningMean = store.add(`${spec.bn}.running_mean`, tf.zeros([outC]), 'vector', true);
    this.runningVar = store.add(`${spec.bn}.running_var`, tf.ones([outC]), 'vector', true);
    this.numBatchesTracked = store.add(
      `${spec.bn}.num_batches_tracked`,
      tf.scalar(0, 'int32'),
      'count',
      true,
    );
  }

  /** The input, zero-padded beforehand where the backend cannot pad as torch does (see symmetricPad). */
  private padded(x: tf.Tensor4D): { input: tf.Tensor4D; pad: number | 'valid' | 'same' } {
    const { pad, k, stride } = this.spec;
    return symmetricPad(x, pad, k, stride);
  }

  apply(x: tf.Tensor4D, training: boolean, relu: boolean): tf.Tensor4D {
    if (training && !this.frozen) return this.applyBatchStats(x, relu);
    const { filter, bias } = !training && !recordingGradients() ? this.cachedFold() : this.fold();
    const { input, pad } = this.padded(x);
    return tf.fused.conv2d({
      x: input,
      filter,
      strides: this.spec.stride,
      pad,
      bias,
      activation: relu ? 'relu' : 'linear',
    });
  }

  /** Folded (filter, bias): BN(conv(x, w)) = conv(x, w * s) + (beta - mean * s), s = gamma / sqrt(var + eps). */
  private fold(): { filter: tf.Tensor4D; bias: tf.Tensor1D } {
    return tf.tidy(() => {
      const scale = tf.mul(this.gamma, tf.rsqrt(tf.add(this.runningVar, this.eps)));
      const filter = tf.mul(this.weight, scale) as tf.Tensor4D;
      const bias = tf.sub(this.beta, tf.mul(this.runningMean, scale)) as tf.Tensor1D;
      return { filter, bias };
    });
  }

  private cachedFold(): FoldedWeights {
    const ids = [this.weight, this.gamma, this.beta, this.runningMean, this.runningVar].map(
      (v) => v.dataId as object,
    );
    const cached = this.folded;
    if (cached?.ids.every((id, i) => id === ids[i])) return cached;
    this.releaseCache();
    const { filter, bias } = this.fold();
    // Kept beyond the caller's tidy: the cache owns them until released.
    this.folded = { filter: tf.keep(filter), bias: tf.keep(bias), ids };
    return this.folded;
  }

  private applyBatchStats(x: tf.Tensor4D, relu: boolean): tf.Tensor4D {
    const { input, pad } = this.padded(x);
    const y = tf.conv2d(input, this.weight as tf.Tensor4D, this.spec.stride, pad);
    const { mean, variance } = tf.moments(y, [0, 1, 2]);
    this.updateRunningStats(mean, variance, y.size / y.shape[3]);
    const z = tf.batchNorm(y, mean, variance, this.beta, this.gamma, this.eps);
    return (relu ? tf.relu(z) : z) as tf.Tensor4D;
  }

  private updateRunningStats(mean: tf.Tensor, variance: tf.Tensor, n: number): void {
    // torch updates running_var with the unbiased batch variance.
    if (runningStatsFrozen > 0) return;
    const unbiased = n > 1 ? n / (n - 1) : 1;
    tf.tidy(() => {
      const m = 1 - BN_MOMENTUM;
      this.runningMean.assign(tf.add(tf.mul(this.runningMean, m), tf.mul(mean, BN_MOMENTUM)));
      this.runningVar.assign(tf.add(tf.mul(this.runningVar, m), tf.mul(variance, BN_MOMENTUM * unbiased)));
      this.numBatchesTracked.assign(tf.add(this.numBatchesTracked, tf.scalar(1, 'int32')));
    });
  }

  releaseCache(): void {
    if (this.folded) {
      this.folded.filter.dispose();
      this.folded.bias.dispose();
      this.folded = undefined;
    }
  }

  /** BN affine parameters (not trainable while frozen). */
  bnParams(): tf.Variable[] {
    return [this.gamma, this.beta];
  }
}

/** torch's nn.Linear: weight held as [in, out] (exported [out, in]) and bias, uniform(+-1/sqrt(in)) init. */
export class Linear {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(store: ParamStore, name: string, inF: number, outF: number, rng: Rng | null) {
    const bound = 1 / Math.sqrt(inF);
    const uniform = (n: number) =>
      rng ? Float32Array.from({ length: n }, () => rng.uniform(-bound, bound)) : new Float32Array(n);
    this.weight = store.add(`${name}.weight`, tf.tensor(uniform(inF * outF), [inF, outF]), 'linear');
    this.bias = store.add(`${name}.bias`, tf.tensor(uniform(outF), [outF]), 'vector');
  }

  apply(x: tf.Tensor2D): tf.Tensor2D {
    return tf.add(tf.matMul(x, this.weight as tf.Tensor2D), this.bias);
  }
}
