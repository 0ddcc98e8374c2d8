/**
 * Task module for the inference worker thread (data/workers protocol): loads the models once in
 * the worker and answers detect/classify jobs, so TF.js's synchronous kernels never block the
 * HTTP thread (health checks and metrics answer while a model runs).
 */
import { type BackendChoice, initBackend } from '../core/backend.js';
import type { TaskFn } from '../data/workers/protocol.js';
import { loadModels } from './models.js';
import type { Classification, Detection, ModelInfo, RgbImage } from './services.js';

export interface InferenceArgs {
  backend: BackendChoice;
  detector: string;
  classifier?: string;
}

export type InferenceJob =
  | { kind: 'describe' }
  | { kind: 'detect'; image: RgbImage; opts: { scoreThreshold: number; maxDetections: number } }
  | { kind: 'classify'; image: RgbImage; opts: { topk: number } };

export interface ModelsDescription {
  backend: string;
  detector: ModelInfo;
  categoryIds?: number[];
  classifier?: ModelInfo;
}

export type InferenceResult = ModelsDescription | Detection[] | Classification[];

export async function createTask(args: InferenceArgs): Promise<TaskFn<InferenceJob, InferenceResult>> {
  // The main thread already said which backend it uses; the worker's own fallback notice would repeat it.
  const { backend } = await initBackend(args.backend, { notice: () => {} });
  const models = await loadModels({ detector: args.detector, classifier: args.classifier });
  return async (job) => {
    if (job.kind === 'describe') {
      const value: ModelsDescription = {
        backend,
        detector: models.detector.info,
        categoryIds: models.detector.categoryIds ? [...models.detector.categoryIds] : undefined,
        classifier: models.classifier?.info,
      };
      return { value };
    }
    if (job.kind === 'detect') return { value: await models.detector.detect(job.image, job.opts) };
    if (!models.classifier) throw new Error('no classifier loaded');
    return { value: await models.classifier.classify(job.image, job.opts) };
  };
}
