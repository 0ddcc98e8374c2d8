import { basename, resolve } from 'node:path';
import { loadClassifier } from '../backbone/classifier.js';
import type { BackendChoice } from '../core/backend.js';
import type { Preprocessing } from '../core/checkpoint.js';
import { siblingModule, WorkerPool } from '../data/workers/pool.js';
import { loadDetector } from '../detection/app/detector.js';
import type { InferenceArgs, InferenceJob, InferenceResult, ModelsDescription } from './inference-task.js';
import type { Classification, ClassifierService, Detection, DetectorService, Models } from './services.js';

export interface ModelDirs {
  detector: string;
  classifier?: string;
}

function describePreprocessing(p: Preprocessing): Record<string, unknown> {
  return { ...p };
}

/** Adapts a detector checkpoint to the server's DetectorService. */
export async function loadDetectorService(dir: string): Promise<DetectorService & { dispose(): void }> {
  const detector = await loadDetector(dir);
  return {
    info: {
      name: basename(resolve(dir)),
      kind: 'detector',
      arch: detector.model.config.arch,
      classes: [...detector.classes],
      preprocessing: describePreprocessing(detector.preprocessing),
    },
    categoryIds: detector.categoryIds,
    detect: (image, opts) => detector.detect(image, opts),
    dispose: () => detector.dispose(),
  };
}

/** Adapts a classifier checkpoint to the server's ClassifierService. */
export function loadClassifierService(dir: string): ClassifierService & { dispose(): void } {
  const classifier = loadClassifier(dir);
  return {
    info: {
      name: basename(resolve(dir)),
      kind: 'classifier',
      arch: classifier.arch,
      classes: [...classifier.classes],
      preprocessing: describePreprocessing(classifier.preprocessing),
    },
    classify: (image, opts) => classifier.classify(image, opts),
    dispose: () => classifier.dispose(),
  };
}

/**
 * Loads the models once for the whole process; every request shares them. The TF.js backend must
 * be initialised first.
 */
export async function loadModels(dirs: ModelDirs): Promise<Models & { dispose(): void }> {
  const detector = await loadDetectorService(dirs.detector);
  let classifier: (ClassifierService & { dispose(): void }) | undefined;
  try {
    classifier = dirs.classifier ? loadClassifierService(dirs.classifier) : undefined;
  } catch (err) {
    detector.dispose();
    throw err;
  }
  return {
    detector,
    classifier,
    dispose() {
      detector.dispose();
      classifier?.dispose();
    },
  };
}

/**
 * Loads the models once, in a worker thread, and returns services that send each image there.
 * The HTTP thread stays free while a model runs. The backend is initialised inside the worker.
 */
export async function loadModelsInWorker(
  dirs: ModelDirs,
  backend: BackendChoice,
): Promise<Models & { backend: string; dispose(): Promise<void> }> {
  const self = import.meta.url;
  const args: InferenceArgs = { backend, detector: dirs.detector, classifier: dirs.classifier };
  const pool = new WorkerPool<InferenceArgs, InferenceJob, InferenceResult>({
    module: siblingModule('inference-task', self),
    args,
    workers: 1,
  });
  let described: ModelsDescription;
  try {
    described = (await pool.run({ kind: 'describe' })).value as ModelsDescription;
  } catch (err) {
    await pool.close();
    throw err;
  }
  // A worker that died (out of memory, a crash in a native kernel) would leave later jobs waiting
  // forever: remember it, fail fast, and let /readyz say so.
  let dead: Error | undefined;
  const run = async (job: InferenceJob): Promise<InferenceResult> => {
    if (dead) throw dead;
    try {
      return (await pool.run(job)).value;
    } catch (err) {
      if (err instanceof Error && /worker exited/.test(err.message)) dead = err;
      throw err;
    }
  };
  const detector: DetectorService = {
    info: described.detector,
    categoryIds: described.categoryIds,
    detect: async (image, opts) => (await run({ kind: 'detect', image, opts })) as Detection[],
  };
  const classifierInfo = described.classifier;
  const classifier: ClassifierService | undefined = classifierInfo
    ? {
        info: classifierInfo,
        classify: async (image, opts) => (await run({ kind: 'classify', image, opts })) as Classification[],
      }
    : undefined;
  return {
    detector,
    classifier,
    backend: described.backend,
    healthy: () => dead === undefined,
    dispose: () => pool.close(),
  };
}
