import { ResdetError, UsageError } from '../../core/errors.js';
import { ArrayDetectionDataset } from './build.js';
import { openCoco } from './coco.js';
import type { DetectionDataset, DetectionSample, OpenOptions } from './types.js';
import { openVoc, VOC_DEFAULT_SPLIT, type VocOpenOptions } from './voc.js';

/**
 * Dataset specs on the command line:
 *   voc:ROOT[:split]              VOC year folder (split default trainval)
 *   coco:ANN.json[:IMAGE_DIR]     COCO instances file (image folder found next to it by default)
 *   A+B                           the union of several, e.g. the paper's 07+12:
 *                                 voc:VOC2007:trainval+voc:VOC2012:trainval
 * Paths containing ':' or '+' cannot be written in a spec.
 */
export type DatasetSpecPart =
  | { kind: 'voc'; root: string; split: string }
  | { kind: 'coco'; annotations: string; imageDir?: string };

export interface DatasetSpec {
  text: string;
  sources: DatasetSpecPart[];
}

const SPEC_HELP = 'use voc:ROOT[:split] or coco:ANN.json[:IMAGE_DIR], joined with + for a union';

export function parseDatasetSpec(spec: string): DatasetSpec {
  const parts = spec.split('+').map((p) => p.trim());
  if (parts.some((p) => p.length === 0))
    throw new UsageError(`dataset spec "${spec}": empty part`, SPEC_HELP);
  const sources = parts.map((part): DatasetSpecPart => {
    const m = /^(voc|coco):(.+)$/.exec(part);
    if (!m) throw new UsageError(`dataset spec "${part}": unknown kind`, SPEC_HELP);
    const [path, extra, ...rest] = m[2].split(':');
    if (rest.length > 0 || !path) throw new UsageError(`dataset spec "${part}": too many ':'`, SPEC_HELP);
    if (m[1] === 'voc') return { kind: 'voc', root: path, split: extra || VOC_DEFAULT_SPLIT };
    return { kind: 'coco', annotations: path, imageDir: extra || undefined };
  });
  return { text: spec, sources };
}

export function formatDatasetSource(s: DatasetSpecPart): string {
  return s.kind === 'voc'
    ? `voc:${s.root}:${s.split}`
    : `coco:${s.annotations}${s.imageDir ? `:${s.imageDir}` : ''}`;
}

export type OpenDatasetOptions = OpenOptions & Pick<VocOpenOptions, 'classes'>;

export async function openSource(
  source: DatasetSpecPart,
  opts: OpenDatasetOptions = {},
): Promise<DetectionDataset> {
  return source.kind === 'voc'
    ? openVoc(source.root, source.split, opts)
    : openCoco(source.annotations, source.imageDir, opts);
}

/** Opens a spec (string or parsed); a union must agree on its class list. */
export async function openDataset(
  spec: string | DatasetSpec,
  opts: OpenDatasetOptions = {},
): Promise<DetectionDataset> {
  const parsed = typeof spec === 'string' ? parseDatasetSpec(spec) : spec;
  const parts: DetectionDataset[] = [];
  for (const source of parsed.sources) parts.push(await openSource(source, opts));
  if (parts.length === 1) return parts[0];
  return concatDatasets(parts);
}

/**
 * What the library's trainers and evaluators take: a spec, or a dataset already open (one from
 * openDataset, or an in-memory object keeping the DetectionDataset contract).
 */
export type DatasetInput = string | DetectionDataset;

/** Opens a spec; a dataset given as an object is used as it is. */
export async function openDatasetInput(
  input: DatasetInput,
  opts: OpenDatasetOptions = {},
): Promise<DetectionDataset> {
  return typeof input === 'string' ? openDataset(input, opts) : input;
}

/** The union of datasets with the same classes, in order; samples are re-indexed. */
export function concatDatasets(parts: DetectionDataset[]): DetectionDataset {
  const first = parts[0];
  for (const p of parts.slice(1)) {
    if (p.classes.join('\n') !== first.classes.join('\n')) {
      throw new ResdetError(
        `cannot join ${first.name} and ${p.name}: their class lists differ`,
        `${first.name}: ${first.classes.join(', ')}; ${p.name}: ${p.classes.join(', ')}`,
      );
    }
  }
  const samples: DetectionSample[] = [];
  for (const p of parts) {
    for (let i = 0; i < p.length; i++) samples.push({ ...p.get(i), index: samples.length });
  }
  return new ArrayDetectionDataset(
    parts.map((p) => p.name).join('+'),
    first.classes,
    samples,
    {
      images: parts.reduce((n, p) => n + p.skipped.images, 0),
      objects: parts.reduce((n, p) => n + p.skipped.objects, 0),
    },
    parts.flatMap((p) => p.problems),
    first.categoryIds,
    parts.flatMap((p) => p.notes ?? []),
  );
}
