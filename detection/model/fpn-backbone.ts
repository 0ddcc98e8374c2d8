import * as tf from '@tensorflow/tfjs';
import { ConvBn } from '../../backbone/layers.js';
import { ParamStore } from '../../backbone/params.js';
import type { ResNet } from '../../backbone/resnet.js';
import type { Rng } from '../../core/rng.js';
import type { FpnVariant } from './fpn-config.js';
import { BiasedConv } from './layers.js';

/** torchvision's pyramid level names, finest first; 'pool' is LastLevelMaxPool's extra level. */
export const FPN_LEVELS = ['0', '1', '2', '3', 'pool'] as const;

/** A 1x1 or 3x3 FPN conv: with bias (v1) or conv + BN without activation (v2, Conv2dNormActivation). */
interface FpnConv {
  apply(x: tf.Tensor4D, training: boolean): tf.Tensor4D;
  norm?: ConvBn;
}

function fpnConv(
  store: ParamStore,
  name: string,
  k: number,
  inC: number,
  outC: number,
  variant: FpnVariant,
  rng: Rng,
): FpnConv {
  if (variant === 'v1') {
    const conv = new BiasedConv(store, `${name}.0`, k, inC, outC, rng, Math.sqrt(1 / (inC * k * k)));
    return { apply: (x) => conv.apply(x) };
  }
  const unit = new ConvBn(
    store,
    { name: `${name}.0`, bn: `${name}.1`, inC, outC, k, stride: 1, pad: Math.floor(k / 2) },
    rng,
  );
  return { apply: (x, training) => unit.apply(x, training, false), norm: unit };
}

/**
 * Nearest-neighbour upsampling of `x` to [h, w] (torch's F.interpolate mode "nearest": source
 * index floor(dst * in / out)). Inputs padded to a multiple of 32 always double exactly; that case
 * is a broadcast (its gradient is a plain sum, which every backend has).
 */
function upsampleNearest(x: tf.Tensor4D, h: number, w: number): tf.Tensor4D {
  const [n, xh, xw, c] = x.shape;
  if (h !== 2 * xh || w !== 2 * xw) return tf.image.resizeNearestNeighbor(x, [h, w]);
  const rows = tf.add(tf.reshape(x, [n * xh, 1, xw, c]), tf.zeros([1, 2, 1, 1]));
  const cols = tf.add(tf.reshape(rows, [n * h, xw, 1, c]), tf.zeros([1, 1, 2, 1]));
  return tf.reshape(cols, [n, h, w, c]);
}

/**
 * BackboneWithFPN: the ResNet body's layer1..layer4 (C2..C5) into a FeaturePyramidNetwork with
 * LastLevelMaxPool. Top-down: last = inner[3](C5); for i = 2..0, last = inner[i](Ci) +
 * nearest_upsample(last); P_i = layer[i](last); 'pool' = P5 subsampled by 2 (max-pool k1 s2). No
 * ReLU in the FPN. Names: `backbone.body.*` (the ResNet) and `backbone.fpn.{inner,layer}_blocks.i.*`.
 */
export class ResNetFpnBackbone {
  readonly body: ResNet;
  /** The FPN's parameters, under their full state-dict names. */
  readonly neck: ParamStore;
  readonly outChannels: number;
  private readonly inner: FpnConv[] = [];
  private readonly layer: FpnConv[] = [];

  constructor(body: ResNet, outChannels: number, variant: FpnVariant, rng: Rng) {
    this.body = body;
    this.outChannels = outChannels;
    this.neck = new ParamStore();
    for (let i = 0; i < 4; i++) {
      const inC = body.stageChannels(i + 1);
      this.inner.push(
        fpnConv(this.neck, `backbone.fpn.inner_blocks.${i}`, 1, inC, outChannels, variant, rng),
      );
      this.layer.push(
        fpnConv(this.neck, `backbone.fpn.layer_blocks.${i}`, 3, outChannels, outChannels, variant, rng),
      );
    }
  }

  /** The five pyramid maps '0', '1', '2', '3', 'pool' (strides 4 .. 64), NHWC. */
  apply(images: tf.Tensor4D, training: boolean): tf.Tensor4D[] {
    return tf.tidy(() => {
      const c: tf.Tensor4D[] = [];
      let x = this.body.stem(images, training);
      for (let i = 1; i <= 4; i++) {
        x = this.body.stage(i, x, training);
        c.push(x);
      }
      let last = this.inner[3].apply(c[3], training);
      const p: tf.Tensor4D[] = [this.layer[3].apply(last, training)];
      for (let i = 2; i >= 0; i--) {
        const lateral = this.inner[i].apply(c[i], training);
        last = tf.add(lateral, upsampleNearest(last, lateral.shape[1], lateral.shape[2]));
        p.unshift(this.layer[i].apply(last, training));
      }
      p.push(tf.maxPool(p[3], 1, 2, 'valid'));
      return p;
    });
  }

  /** The FPN's BN units (v2), for the frozen/trainable BN option. */
  get norms(): ConvBn[] {
    return [...this.inner, ...this.layer].flatMap((c) => (c.norm ? [c.norm] : []));
  }

  dispose(): void {
    for (const unit of this.norms) unit.releaseCache();
    this.body.dispose();
    this.neck.dispose();
  }
}
