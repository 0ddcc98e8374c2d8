import * as tf from '@tensorflow/tfjs';
import { ResdetError } from '../errors.js';
import { type SafeTensor, type SafetensorsFile, toFloat32 } from '../safetensors.js';

/**
 * What a parameter is, for the weight-decay policy: conv and linear kernels (`weight`), other
 * biases (`bias`), and normalisation affine parameters (`norm`).
 */
export type ParamGroup = 'weight' | 'bias' | 'norm';

/** A trainable parameter under its torchvision state_dict name. */
export interface NamedParam {
  name: string;
  variable: tf.Variable;
  group: ParamGroup;
}

/** L2 weight decay per parameter group. */
export type WeightDecay = Readonly<Record<ParamGroup, number>>;

/** The same decay on every parameter (torch's plain SGD; the paper's classifier recipes). */
export function uniformDecay(weightDecay: number): WeightDecay {
  return { weight: weightDecay, bias: weightDecay, norm: weightDecay };
}

/**
 * The detector's policy: decay on conv and linear kernels only (as resdet's detector has always
 * trained; detectron2 leaves norm parameters undecayed too, but decays biases).
 */
export const DETECTOR_WEIGHT_DECAY: WeightDecay = { weight: 1e-4, bias: 0, norm: 0 };

export interface SgdOptions {
  momentum: number;
  weightDecay: WeightDecay;
}

/** tf.variableGrads()'s gradients (by variable name) keyed by parameter name, as Sgd.step takes them. */
export function gradsByParam(
  params: readonly NamedParam[],
  grads: tf.NamedTensorMap,
): Map<string, tf.Tensor> {
  const nameOf = new Map(params.map((p) => [p.variable.name, p.name]));
  return new Map(Object.entries(grads).map(([v, g]) => [nameOf.get(v) ?? v, g]));
}

const BUFFER_PREFIX = 'momentum_buffer.';

/**
 * SGD with momentum and L2 weight decay in torch's form: v = m*v + (g + wd*w); w -= lr*v, the
 * buffer starting at the first step's (g + wd*w) as torch's does. Momentum buffers are kept by
 * parameter name so a checkpoint can store them and --resume restore them.
 */
export class Sgd {
  readonly options: SgdOptions;
  private readonly params: NamedParam[];
  private readonly buffers = new Map<string, tf.Variable>();

  constructor(params: NamedParam[], options: SgdOptions) {
    this.params = params;
    this.options = options;
  }

  /** One update with rate `lr`; `grads` maps parameter names to batch-mean gradients. */
  step(grads: ReadonlyMap<string, tf.Tensor>, lr: number): void {
    const { momentum, weightDecay } = this.options;
    tf.tidy(() => {
      for (const p of this.params) {
        const g = grads.get(p.name);
        if (!g) continue;
        const wd = weightDecay[p.group];
        const d = wd > 0 ? tf.add(g, tf.mul(p.variable, wd)) : g;
        let buf = this.buffers.get(p.name);
        if (!buf) {
          buf = tf.variable(d, false);
          this.buffers.set(p.name, buf);
        } else if (momentum > 0) buf.assign(tf.add(tf.mul(buf, momentum), d));
        else buf.assign(d);
        p.variable.assign(tf.sub(p.variable, tf.mul(buf, lr)));
      }
    });
  }

  /** Momentum buffers as `momentum_buffer.<name>` F32 tensors (one batched read). */
  async stateDict(): Promise<Record<string, SafeTensor>> {
    const entries = [...this.buffers];
    const data = await Promise.all(entries.map(([, buf]) => buf.data() as Promise<Float32Array>));
    const out: Record<string, SafeTensor> = {};
    entries.forEach(([name, buf], i) => {
      out[BUFFER_PREFIX + name] = { dtype: 'F32', shape: [...buf.shape], data: data[i] };
    });
    return out;
  }

  /**
   * Restores buffers saved by stateDict(), or by the detector trainer before core/train (keys
   * without the prefix). Parameters without a stored buffer start from zero momentum; a stored
   * buffer whose shape does not match its parameter is an error: the state is another model's.
   * Returns how many buffers were restored.
   */
  loadStateDict(state: Readonly<Record<string, SafeTensor>>): number {
    let loaded = 0;
    for (const p of this.params) {
      const t = state[BUFFER_PREFIX + p.name] ?? state[p.name];
      if (!t) continue;
      const key = state[BUFFER_PREFIX + p.name] ? BUFFER_PREFIX + p.name : p.name;
      if (t.shape.join(',') !== p.variable.shape.join(',')) {
        throw new ResdetError(
          `optimizer state ${key} has shape [${t.shape}] but the parameter has [${p.variable.shape}]`,
          'the checkpoint belongs to another architecture; start a new run without --resume',
        );
      }
      this.buffers.get(p.name)?.dispose();
      this.buffers.set(p.name, tf.variable(tf.tensor(toFloat32(t), [...t.shape]), false));
      loaded++;
    }
    return loaded;
  }

  /** loadStateDict() from an optimizer.safetensors as loadCheckpoint() opens it. */
  loadStateFile(file: SafetensorsFile): number {
    return this.loadStateDict(Object.fromEntries(file.names().map((n) => [n, file.tensor(n)])));
  }

  dispose(): void {
    for (const b of this.buffers.values()) b.dispose();
    this.buffers.clear();
  }
}
