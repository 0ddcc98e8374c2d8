import { fromFloat32, type SafeDtype, type SafeTensor, writeSafetensors } from '../core/safetensors.js';
import { loadClassifierModel } from './classifier.js';

export interface ExportClassifierOptions {
  /** Classifier checkpoint directory. */
  model: string;
  /** The .safetensors file to write. */
  out: string;
  /** Only torchvision's state_dict layout is written today. */
  format?: 'torchvision';
  /** Float dtype of the written tensors (default F32). */
  dtype?: Extract<SafeDtype, 'F32' | 'F16' | 'BF16'>;
}

export interface ExportClassifierSummary {
  out: string;
  arch: string;
  tensors: number;
  dtype: 'F32' | 'F16' | 'BF16';
}

/**
 * `resdet export --format torchvision`: a classifier's weights as a torchvision state_dict in
 * .safetensors (loadable with safetensors.torch.load_file + model.load_state_dict).
 */
export async function exportClassifier(opts: ExportClassifierOptions): Promise<ExportClassifierSummary> {
  const dtype = opts.dtype ?? 'F32';
  // Loading through the model checks that every tensor is present and shaped as the arch needs.
  const { model, config } = loadClassifierModel(opts.model);
  try {
    const state = await model.stateDict();
    const out: Record<string, SafeTensor> = {};
    for (const [name, t] of Object.entries(state)) {
      out[name] = t.dtype === 'F32' ? fromFloat32(t.data as Float32Array, t.shape, dtype) : t;
    }
    writeSafetensors(opts.out, out, { format: 'pt', source: 'resdet', arch: config.arch });
    return { out: opts.out, arch: config.arch, tensors: Object.keys(out).length, dtype };
  } finally {
    model.dispose();
  }
}
