import * as tf from '@tensorflow/tfjs';
import { ResdetError } from '../../core/errors.js';
import { type SafeTensor, type SafetensorsFile, toFloat32 } from '../../core/safetensors.js';

export interface SgdOptions {
  momentum: number;
  weightDecay: number;
}

/** A named trainable parameter: `name` is its torchvision state_dict key. */
export interface NamedVariable {
  name: string;
  variable: tf.Variable;
}

/**
 * SGD with momentum and L2 weight decay in PyTorch's form: v = m*v + (g + wd*w); w -= lr*v. (The
 * Caffe form v = m*v + lr*g differs only when the rate changes.) Own implementation rather than
 * tf.train.momentum so the slots can be saved by parameter name and restored on --resume.
 */
export class Sgd {
  readonly opts: SgdOptions;
  private readonly slots = new Map<string, tf.Variable>();

  constructor(opts: SgdOptions) {
    this.opts = opts;
  }

  /** `grads` maps parameter names to gradients (already averaged over the batch). */
  step(params: NamedVariable[], grads: Map<string, tf.Tensor>, lr: number): void {
    const { momentum, weightDecay } = this.opts;
    tf.tidy(() => {
      for (const { name, variable } of params) {
        const g = grads.get(name);
        if (!g) continue;
        const d = weightDecay > 0 ? g.add(variable.mul(weightDecay)) : g;
        let slot = this.slots.get(name);
        if (!slot) {
          slot = tf.variable(tf.zerosLike(variable), false);
          this.slots.set(name, slot);
        }
        const v = momentum > 0 ? slot.mul(momentum).add(d) : d;
        slot.assign(v);
        variable.assign(variable.sub(v.mul(lr)));
      }
    });
  }

  /** Momentum buffers by parameter name, as `momentum_buffer.<name>`. */
  async stateDict(): Promise<Record<string, SafeTensor>> {
    const slots = [...this.slots];
    const values = await Promise.all(slots.map(([, slot]) => slot.data()));
    const out: Record<string, SafeTensor> = {};
    slots.forEach(([name, slot], i) => {
      out[`momentum_buffer.${name}`] = { dtype: 'F32', shape: slot.shape, data: values[i] as Float32Array };
    });
    return out;
  }

  loadStateDict(file: SafetensorsFile, params: NamedVariable[]): void {
    for (const { name, variable } of params) {
      const key = `momentum_buffer.${name}`;
      if (!file.has(key)) continue;
      const t = toFloat32(file.tensor(key));
      const shape = file.info(key).shape;
      if (shape.join(',') !== variable.shape.join(',')) {
        throw new ResdetError(
          `optimizer state ${key} has shape [${shape}] but the parameter has [${variable.shape}]`,
          'the checkpoint belongs to another architecture; start a new run without --resume',
        );
      }
      this.slots.get(name)?.dispose();
      this.slots.set(name, tf.variable(tf.tensor(t, variable.shape), false));
    }
  }

  dispose(): void {
    for (const s of this.slots.values()) s.dispose();
    this.slots.clear();
  }
}
