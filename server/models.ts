import { basename, resolve } from 'node:path';
import { loadClassifier } from '../backbone/classifier.js';
import type { Preprocessing } from '../core/checkpoint.js';
import { loadDetector } from '../detection/detector.js';
import type { ClassifierService, DetectorService, Models } from './services.js';

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
