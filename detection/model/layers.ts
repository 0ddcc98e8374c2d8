import * as tf from '@tensorflow/tfjs';
import type { ParamStore } from '../../backbone/params.js';
import type { Rng } from '../../core/rng.js';

/** Normal(0, std) values from the seeded generator (detector heads' init, as detectron2). */
function normal(rng: Rng, n: number, std: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal() * std;
  return out;
}

/** A convolution with bias (the RPN's), weights N(0, std), bias 0, held HWIO inside. */
export class BiasedConv {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(store: ParamStore, name: string, k: number, inC: number, outC: number, rng: Rng, std: number) {
    this.weight = store.add(
      `${name}.weight`,
      tf.tensor4d(normal(rng, k * k * inC * outC, std), [k, k, inC, outC]),
      'conv',
    );
    this.bias = store.add(`${name}.bias`, tf.zeros([outC]), 'vector');
  }

  apply(x: tf.Tensor4D, relu = false): tf.Tensor4D {
    // stride 1 and odd k: 'same' is torch's symmetric k // 2 padding.
    return tf.fused.conv2d({
      x,
      filter: this.weight as tf.Tensor4D,
      strides: 1,
      pad: 'same',
      bias: this.bias,
      activation: relu ? 'relu' : 'linear',
    });
  }
}

/** A fully connected layer held [in, out] inside ([out, in] in the state dict), N(0, std) init. */
export class DenseLayer {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(store: ParamStore, name: string, inF: number, outF: number, rng: Rng, std: number) {
    this.weight = store.add(
      `${name}.weight`,
      tf.tensor2d(normal(rng, inF * outF, std), [inF, outF]),
      'linear',
    );
    this.bias = store.add(`${name}.bias`, tf.zeros([outF]), 'vector');
  }

  apply(x: tf.Tensor2D): tf.Tensor2D {
    return tf.add(tf.matMul(x, this.weight as tf.Tensor2D), this.bias);
  }
}
