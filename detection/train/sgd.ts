import * as tf from '@tensorflow/tfjs';
import type { SafeTensor } from '../../core/safetensors.js';

export interface NamedVariable {
  name: string;
  variable: tf.Variable;
  /** L2 weight decay applies to conv and linear weights, not to BN affine or biases. */
  decay: boolean;
}

/**
 * SGD with momentum and weight decay in torch's form: v = m v + (g + wd w); w -= lr v. Momentum
 * buffers are keyed by parameter name so they can be saved with a checkpoint and resumed.
 */
export class SgdMomentum {
  readonly momentum: number;
  readonly weightDecay: number;
  private readonly params: NamedVariable[];
  private readonly buffers = new Map<string, tf.Variable>();

  constructor(params: NamedVariable[], momentum = 0.9, weightDecay = 1e-4) {
    this.params = params;
    this.momentum = momentum;
    this.weightDecay = weightDecay;
  }

  /** One update with learning rate `lr`; parameters without a gradient are left alone. */
  step(grads: Record<string, tf.Tensor>, lr: number): void {
    tf.tidy(() => {
      for (const p of this.params) {
        const g = grads[p.variable.name];
        if (!g) continue;
        const d = p.decay && this.weightDecay > 0 ? tf.add(g, tf.mul(p.variable, this.weightDecay)) : g;
        let buf = this.buffers.get(p.name);
        if (!buf) {
          // torch starts the buffer at the first gradient itself.
          buf = tf.variable(d, false);
          this.buffers.set(p.name, buf);
        } else buf.assign(tf.add(tf.mul(buf, this.momentum), d));
        p.variable.assign(tf.sub(p.variable, tf.mul(buf, lr)));
      }
    });
  }

  /** Momentum buffers as F32 tensors (variable layout), for optimizer.safetensors. */
  async state(): Promise<Record<string, SafeTensor>> {
    const buffers = [...this.buffers];
    const values = await Promise.all(buffers.map(([, buf]) => buf.data()));
    const out: Record<string, SafeTensor> = {};
    buffers.forEach(([name, buf], i) => {
      out[name] = { dtype: 'F32', shape: [...buf.shape], data: Float32Array.from(values[i] as Float32Array) };
    });
    return out;
  }

  /** Restores buffers saved by `state()`; names or shapes that no longer fit are skipped. */
  loadState(state: Record<string, SafeTensor>): number {
    let loaded = 0;
    for (const p of this.params) {
      const t = state[p.name];
      if (t?.dtype !== 'F32') continue;
      if (t.shape.length !== p.variable.shape.length || !t.shape.every((d, i) => d === p.variable.shape[i]))
        continue;
      this.buffers.get(p.name)?.dispose();
      this.buffers.set(p.name, tf.variable(tf.tensor(t.data as Float32Array, [...t.shape]), false));
      loaded++;
    }
    return loaded;
  }

  dispose(): void {
    for (const b of this.buffers.values()) b.dispose();
    this.buffers.clear();
  }
}
