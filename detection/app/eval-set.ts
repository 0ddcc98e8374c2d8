import { ResdetError, UsageError } from '../../core/errors.js';
import { openCoco } from '../../data/detection/coco.js';
import { readCocoInstances } from '../../data/detection/coco-source.js';
import { formatProblem } from '../../data/detection/problems.js';
import { type DatasetSpec, openDataset, parseDatasetSpec } from '../../data/detection/spec.js';
import type { DetectionDataset } from '../../data/detection/types.js';
import type { CocoAnnotationsSource } from './evaluate.js';

/** A dataset opened for evaluation, with what a person should be told about how it was read. */
export interface EvaluationSet {
  dataset: DetectionDataset;
  /** The COCO instances document, when the set is one COCO file (read once, shared with COCOeval). */
  coco?: CocoAnnotationsSource;
}

/**
 * Opens an evaluation set the way every evaluating command must, so that they score the same
 * images: bad records are skipped (as training does) and reported, and an empty set is an error.
 */
export async function openEvaluationSet(
  spec: string | DatasetSpec,
  /** Told notes and bad-data summaries, one line each, as they are found (the CLI prints them). */
  warn: (line: string) => void = () => {},
): Promise<EvaluationSet> {
  const parsed = typeof spec === 'string' ? parseDatasetSpec(spec) : spec;
  const single = parsed.sources.length === 1 ? parsed.sources[0] : undefined;
  let coco: CocoAnnotationsSource | undefined;
  let dataset: DetectionDataset;
  if (single?.kind === 'coco') {
    coco = { path: single.annotations, instances: await readCocoInstances(single.annotations) };
    dataset = await openCoco(single.annotations, single.imageDir, {
      skipBad: true,
      instances: coco.instances,
    });
  } else {
    dataset = await openDataset(parsed, { skipBad: true });
  }
  for (const note of dataset.notes ?? []) warn(note);
  const first = dataset.problems[0];
  const example = first ? `; first: ${formatProblem(first)}` : '';
  const { images: badImages, objects: badObjects } = dataset.skipped;
  if (dataset.length === 0)
    throw new ResdetError(
      `${dataset.name}: no images to evaluate${badImages > 0 ? ` (all ${badImages} were left out as bad data${example})` : ''}`,
      'check the annotations and that the image files exist',
    );
  // The mAP then covers less than the set holds: say so.
  if (badImages + badObjects > 0)
    warn(
      `${dataset.name}: left out ${badImages} image(s) and ${badObjects} object(s) with bad data${example} (\`resdet data stats --data ${parsed.text} --skip-bad\` lists them)`,
    );
  return { dataset, coco };
}

/** A detector scores a set only in the class order it was trained on. */
export function assertDetectorClasses(dataset: DetectionDataset, classes: readonly string[]): void {
  if (dataset.classes.join('\n') !== classes.join('\n'))
    throw new UsageError(
      `${dataset.name}'s classes (${dataset.classes.join(', ')}) are not the model's (${classes.join(', ')})`,
      'evaluate on a set with the classes the detector was trained on',
    );
}
