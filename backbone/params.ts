import * as tf from '@tensorflow/tfjs';
import { ResdetError } from '../core/errors.js';
import { type SafeTensor, SafetensorsFile, toFloat32 } from '../core/safetensors.js';
import type { NamedParam, ParamGroup } from '../core/train/sgd.js';

/**
 * The module system's parameter store: every tensor of a model is a tf.Variable registered here
 * under its torchvision state_dict name. Variables are held in TF.js layouts (conv HWIO, linear
 * [in, out]) and converted to torch layouts (OIHW, [out, in]) only at the state_dict boundary.
 */

/**
 * conv: HWIO inside, OIHW outside; linear: [in, out] inside, [out, in] outside; vector: 1-D as is;
 * count: an int32 scalar inside, I64 outside (BN's num_batches_tracked).
 */
export type ParamLayout = 'conv' | 'linear' | 'vector' | 'count';

export interface ParamEntry {
  name: string;
  variable: tf.Variable;
  layout: ParamLayout;
  /** Buffers (BN running statistics, counters) are state, never trained. */
  buffer: boolean;
}

/**
 * The weight-decay group of a trainable entry: conv and linear kernels are weights; a vector is a
 * normalisation parameter when it belongs to a BN layer (torchvision's bn1.., downsample.1),
 * a bias otherwise.
 */
export function paramGroup(entry: ParamEntry): ParamGroup {
  if (entry.layout === 'conv' || entry.layout === 'linear') return 'weight';
  return /(^|\.)(bn\d*|downsample\.1)\.(weight|bias)$/.test(entry.name) ? 'norm' : 'bias';
}

/** Trainable entries (no buffers, nothing frozen) as the optimizer's named parameters. */
export function trainableParams(entries: ParamEntry[], prefix = ''): NamedParam[] {
  return entries
    .filter((e) => !e.buffer && e.variable.trainable)
    .map((e) => ({ name: prefix + e.name, variable: e.variable, group: paramGroup(e) }));
}

export interface LoadStateDictOptions {
  /** Missing and unexpected keys are errors (default true). Mis-shaped keys are always errors. */
  strict?: boolean;
}

export interface LoadStateDictResult {
  loaded: string[];
  missing: string[];
  unexpected: string[];
}

function torchShape(layout: ParamLayout, shape: readonly number[]): number[] {
  if (layout === 'conv') return [shape[3], shape[2], shape[0], shape[1]];
  if (layout === 'linear') return [shape[1], shape[0]];
  return [...shape];
}

function listNames(names: string[], max = 12): string {
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown} and ${names.length - max} more` : shown;
}

export class ParamStore {
  private readonly entries = new Map<string, ParamEntry>();

  /** Registers `value` (kept, not copied) as a variable; returns the variable. */
  add(name: string, value: tf.Tensor, layout: ParamLayout, buffer = false): tf.Variable {
    if (this.entries.has(name)) throw new Error(`parameter "${name}" registered twice`);
    // Unnamed: TF.js variable names are global, and two models share the same torchvision names.
    const variable = tf.variable(value, !buffer, undefined, value.dtype);
    value.dispose();
    this.entries.set(name, { name, variable, layout, buffer });
    return variable;
  }

  get(name: string): ParamEntry {
    const entry = this.entries.get(name);
    if (!entry) throw new Error(`no parameter named "${name}"`);
    return entry;
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  all(): ParamEntry[] {
    return [...this.entries.values()];
  }

  /** The variables an optimizer should update: not buffers, not frozen. */
  trainableVariables(): tf.Variable[] {
    return this.all()
      .filter((e) => !e.buffer && e.variable.trainable)
      .map((e) => e.variable);
  }

  /** Marks every parameter under `prefix` (e.g. "layer1.") as trainable or not. */
  setTrainable(prefix: string, trainable: boolean): void {
    for (const e of this.entries.values()) {
      if (!e.buffer && (e.name === prefix || e.name.startsWith(prefix))) e.variable.trainable = trainable;
    }
  }

  /** Torch shapes of every entry, by name. */
  torchShapes(): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    for (const e of this.entries.values()) out[e.name] = torchShape(e.layout, e.variable.shape);
    return out;
  }

  /**
   * Every entry in torch layout: F32 tensors, I64 counters. All reads are started together and
   * awaited once (a device backend copies them back in one go).
   */
  async stateDict(): Promise<Record<string, SafeTensor>> {
    const entries = [...this.entries.values()];
    const torchLayout = entries.map((e) =>
      tf.tidy(() => {
        if (e.layout === 'conv') return tf.transpose(e.variable, [3, 2, 0, 1]);
        if (e.layout === 'linear') return tf.transpose(e.variable);
        return e.variable.clone();
      }),
    );
    let values: tf.TypedArray[];
    try {
      values = await Promise.all(torchLayout.map((t) => t.data()));
    } finally {
      tf.dispose(torchLayout);
    }
    const out: Record<string, SafeTensor> = {};
    entries.forEach((e, i) => {
      const shape = torchShape(e.layout, e.variable.shape);
      if (e.layout === 'count') {
        out[e.name] = { dtype: 'I64', shape: [], data: BigInt64Array.of(BigInt(Math.round(values[i][0]))) };
      } else {
        out[e.name] = { dtype: 'F32', shape, data: Float32Array.from(values[i] as Float32Array) };
      }
    });
    return out;
  }

  /**
   * Loads torch-layout tensors (F32, F16, BF16; counters as I64/I32/F32). Every problem is
   * collected first and reported together, by name; nothing is assigned unless all checks pass.
   */
  loadStateDict(
    source: SafetensorsFile | Record<string, SafeTensor>,
    opts: LoadStateDictOptions = {},
    label = source instanceof SafetensorsFile ? source.label : 'state dict',
  ): LoadStateDictResult {
    const strict = opts.strict ?? true;
    const get = (name: string): SafeTensor | undefined =>
      source instanceof SafetensorsFile ? (source.has(name) ? source.tensor(name) : undefined) : source[name];
    const sourceNames = source instanceof SafetensorsFile ? source.names() : Object.keys(source);
    const missing: string[] = [];
    const misShaped: string[] = [];
    const badType: string[] = [];
    const plan: Array<{ entry: ParamEntry; tensor: SafeTensor }> = [];
    for (const entry of this.entries.values()) {
      const t = get(entry.name);
      if (!t) {
        missing.push(entry.name);
        continue;
      }
      const want = torchShape(entry.layout, entry.variable.shape);
      // A counter may be stored as a 0-d or a 1-element tensor.
      const shapeOk =
        entry.layout === 'count'
          ? t.shape.reduce((a, b) => a * b, 1) === 1
          : t.shape.length === want.length && t.shape.every((d, i) => d === want[i]);
      if (!shapeOk) {
        misShaped.push(`${entry.name} (file ${JSON.stringify(t.shape)}, model ${JSON.stringify(want)})`);
        continue;
      }
      const allowed = entry.layout === 'count' ? ['I64', 'I32', 'F32'] : ['F32', 'F16', 'BF16'];
      if (!allowed.includes(t.dtype)) {
        badType.push(`${entry.name} (${t.dtype}; expected ${allowed.join('/')})`);
        continue;
      }
      plan.push({ entry, tensor: t });
    }
    const unexpected = sourceNames.filter((n) => !this.entries.has(n));
    const problems: string[] = [];
    if (misShaped.length) problems.push(`mis-shaped: ${listNames(misShaped)}`);
    if (badType.length) problems.push(`unsupported dtype: ${listNames(badType)}`);
    if (strict && missing.length) problems.push(`missing: ${listNames(missing)}`);
    if (strict && unexpected.length) problems.push(`unexpected: ${listNames(unexpected)}`);
    if (problems.length) {
      throw new ResdetError(
        `${label}: weights do not match the model: ${problems.join('; ')}`,
        'check --arch and the number of classes, or that the file holds this architecture',
      );
    }
    for (const { entry, tensor } of plan) {
      const values = toFloat32(tensor);
      const next = tf.tidy(() => {
        if (entry.layout === 'count') return tf.scalar(Math.round(values[0]), 'int32');
        const shape = torchShape(entry.layout, entry.variable.shape);
        const t = tf.tensor(values, shape, 'float32');
        if (entry.layout === 'conv') return tf.transpose(t, [2, 3, 1, 0]);
        if (entry.layout === 'linear') return tf.transpose(t);
        return t;
      });
      entry.variable.assign(next);
      next.dispose();
    }
    return { loaded: plan.map((p) => p.entry.name), missing, unexpected };
  }

  dispose(): void {
    for (const e of this.entries.values()) e.variable.dispose();
    this.entries.clear();
  }
}
