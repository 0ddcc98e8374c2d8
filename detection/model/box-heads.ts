import * as tf from '@tensorflow/tfjs';
import { ConvBn } from '../../backbone/layers.js';
import type { ParamStore } from '../../backbone/params.js';
import type { Rng } from '../../core/rng.js';
import { DenseLayer } from './layers.js';

/** A per-RoI feature extractor: pooled [R, P, P, C] (NHWC) -> [R, representation]. */
export interface BoxHead {
  apply(pooled: tf.Tensor4D, training: boolean): tf.Tensor2D;
  /** BN units inside the head (v2), for the frozen/trainable BN option. */
  readonly norms: ConvBn[];
}

/** torch flattens NCHW (c * P * P + y * P + x): transpose NHWC first so the weights line up. */
function flattenNchw(x: tf.Tensor4D): tf.Tensor2D {
  const [r, h, w, c] = x.shape;
  return tf.reshape(tf.transpose(x, [0, 3, 1, 2]), [r, c * h * w]);
}

function dense(store: ParamStore, name: string, inF: number, outF: number, rng: Rng): DenseLayer {
  // variance 1 / (3 in), as torch's default Linear init (kaiming_uniform with a = sqrt(5))
  return new DenseLayer(store, name, inF, outF, rng, Math.sqrt(1 / (3 * inF)));
}

/** torchvision's TwoMLPHead (v1): flatten, fc6 + ReLU, fc7 + ReLU. */
export class TwoMlpHead implements BoxHead {
  readonly fc6: DenseLayer;
  readonly fc7: DenseLayer;
  readonly norms: ConvBn[] = [];

  constructor(store: ParamStore, inF: number, representation: number, rng: Rng) {
    this.fc6 = dense(store, 'roi_heads.box_head.fc6', inF, representation, rng);
    this.fc7 = dense(store, 'roi_heads.box_head.fc7', representation, representation, rng);
  }

  apply(pooled: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => tf.relu(this.fc7.apply(tf.relu(this.fc6.apply(flattenNchw(pooled))))));
  }
}

/**
 * torchvision's FastRCNNConvFCHead (v2): four [conv3x3 no bias, BN, ReLU] (`box_head.{0..3}.{0,1}`),
 * flatten (`box_head.4`), Linear (`box_head.5`) + ReLU.
 */
export class ConvFcHead implements BoxHead {
  readonly norms: ConvBn[] = [];
  readonly fc: DenseLayer;

  constructor(
    store: ParamStore,
    channels: number,
    poolSize: number,
    convs: number,
    representation: number,
    rng: Rng,
  ) {
    for (let i = 0; i < convs; i++) {
      const name = `roi_heads.box_head.${i}`;
      this.norms.push(
        new ConvBn(
          store,
          { name: `${name}.0`, bn: `${name}.1`, inC: channels, outC: channels, k: 3, stride: 1, pad: 1 },
          rng,
        ),
      );
    }
    this.fc = dense(
      store,
      `roi_heads.box_head.${convs + 1}`,
      channels * poolSize * poolSize,
      representation,
      rng,
    );
  }

  apply(pooled: tf.Tensor4D, training: boolean): tf.Tensor2D {
    return tf.tidy(() => {
      const x = this.norms.reduce((y, unit) => unit.apply(y, training, true), pooled);
      return tf.relu(this.fc.apply(flattenNchw(x)));
    });
  }
}
