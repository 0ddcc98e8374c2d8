import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { ResdetError } from '../../core/errors.js';
import { type NumpyArray, numpyToTensor, PyDict, type PyValue, readPickle } from '../../core/pickle.js';
import type { SafeTensor } from '../../core/safetensors.js';
import { COCO_CATEGORIES } from '../../data/detection/coco-categories.js';
import { type DetectorMeta, saveDetector } from './checkpoint.js';
import { type DetectorConfig, detectorConfig } from '../model/config.js';
import { FasterRCNN } from '../model/faster-rcnn.js';

/**
 * detectron2's Faster R-CNN C4 models (COCO-Detection/faster_rcnn_R_{50,101}_C4_*.yaml) from its
 * model-zoo pickles: `{"model": {state-dict name: numpy array}, "__author__": ...}`. The pickle
 * is read by core/pickle.ts (nothing executed); names are mapped onto resdet's C4 detector, which
 * is configured with detectron2's conventions (see detectron2C4Config).
 */

/** Written by detectron2 < 0.2 and dropped by its loader; an importer ignores it too. */
const LEGACY_KEYS = new Set(['proposal_generator.anchor_generator.cell_anchors.0']);

/** ResNet depth by blocks per stage (res2..res5). */
const ARCHS: Record<string, { layers: number[]; aliases: string[] }> = {
  resnet50: { layers: [3, 4, 6, 3], aliases: ['R50-C4', 'R-50', 'R50'] },
  resnet101: { layers: [3, 4, 23, 3], aliases: ['R101-C4', 'R-101', 'R101'] },
};

/** detectron2's published Faster R-CNN C4 models (COCO box AP from its MODEL_ZOO.md). */
export const DETECTRON2_C4_ZOO: readonly { name: string; arch: string; cocoBoxAp: number; url: string }[] = [
  {
    name: 'faster_rcnn_R_50_C4_1x',
    arch: 'R50-C4',
    cocoBoxAp: 35.7,
    url: 'https://dl.fbaipublicfiles.com/detectron2/COCO-Detection/faster_rcnn_R_50_C4_1x/137257644/model_final_721ade.pkl',
  },
  {
    name: 'faster_rcnn_R_50_C4_3x',
    arch: 'R50-C4',
    cocoBoxAp: 38.4,
    url: 'https://dl.fbaipublicfiles.com/detectron2/COCO-Detection/faster_rcnn_R_50_C4_3x/137849393/model_final_f97cb7.pkl',
  },
  {
    name: 'faster_rcnn_R_101_C4_3x',
    arch: 'R101-C4',
    cocoBoxAp: 41.1,
    url: 'https://dl.fbaipublicfiles.com/detectron2/COCO-Detection/faster_rcnn_R_101_C4_3x/138204752/model_final_298dad.pkl',
  },
];

/** detectron2's default anchors (ANCHOR_GENERATOR.SIZES / ASPECT_RATIOS for C4). */
const D2_ANCHOR_SIZES = [32, 64, 128, 256, 512];
const D2_ASPECT_RATIOS = [0.5, 1, 2];

/** detectron2's test-time input: BGR, mean on 0..255, std 1, ResizeShortestEdge(800, 1333). */
export const DETECTRON2_PREPROCESSING = {
  mean: [103.53, 116.28, 123.675] as [number, number, number],
  std: [1, 1, 1] as [number, number, number],
  channelOrder: 'bgr' as const,
  valueRange: '0-255' as const,
  resize: 'pil-bilinear' as const,
  minSize: 800,
  maxSize: 1333,
};

export interface Detectron2Weights {
  /** State-dict tensors in detectron2's names (torch layout), legacy keys removed. */
  tensors: Record<string, SafeTensor>;
  author?: string;
  /** Keys ignored as detectron2 ignores them. */
  ignored: string[];
  /** numpy dtypes found, e.g. ['float32']; float64 arrays are narrowed to float32. */
  dtypes: string[];
  narrowed: number;
}

function describe(v: PyValue): string {
  if (v instanceof PyDict)
    return `a dict with keys ${[...v.entries.keys()].slice(0, 6).map(String).join(', ')}`;
  if (v === null) return 'None';
  if (typeof v !== 'object') return typeof v;
  if (v instanceof Uint8Array) return 'bytes';
  return v.kind === 'ndarray' ? 'a numpy array' : `a ${v.kind}`;
}

/** Reads a detectron2 model-zoo .pkl strictly; every value of its `model` dict must be an array. */
export function readDetectron2Weights(path: string): Detectron2Weights {
  const buf = readFileSync(path);
  if (buf[0] === 0x50 && buf[1] === 0x4b)
    throw new ResdetError(
      `${path}: a zip archive (torch.save's format), not a detectron2 model-zoo pickle`,
      "give the model zoo's model_final_*.pkl; a .pth checkpoint of detectron2 itself is a torch zip",
    );
  if (buf.length > 9 && buf[8] === 0x7b && buf.readBigUInt64LE(0) < BigInt(buf.length))
    throw new ResdetError(
      `${path}: a safetensors file, not a detectron2 model-zoo pickle`,
      'safetensors state dicts are imported with `resdet import torchvision`',
    );
  const top = readPickle(buf, path);
  if (!(top instanceof PyDict))
    throw new ResdetError(
      `${path}: the pickle holds ${describe(top)}, not a dict`,
      'a detectron2 model-zoo file is {"model": {name: array}, "__author__": ...}',
    );
  const model = top.entries.get('model');
  if (model === undefined) {
    const blobs = top.entries.get('blobs');
    if (blobs instanceof PyDict) {
      const names = [...blobs.entries.keys()].map(String);
      throw new ResdetError(
        `${path}: a Caffe2/Detectron-1 "blobs" dict (${names.length} arrays, e.g. ${names.slice(0, 3).join(', ')}), not a detectron2 "model" dict`,
        'its names (conv1_w, res2_0_branch2a_w, ...) are the Caffe2 layout: use the detectron2 model-zoo file (model_final_*.pkl from dl.fbaipublicfiles.com/detectron2/...)',
      );
    }
    throw new ResdetError(
      `${path}: no "model" entry (found ${describe(top)})`,
      'a detectron2 model-zoo file is {"model": {name: array}, "__author__": ...}',
    );
  }
  if (!(model instanceof PyDict))
    throw new ResdetError(`${path}: "model" is ${describe(model)}, not a dict of arrays`);
  const tensors: Record<string, SafeTensor> = {};
  const ignored: string[] = [];
  const dtypes = new Set<string>();
  let narrowed = 0;
  const notArrays: string[] = [];
  for (const [key, value] of model.entries) {
    const name = String(key);
    if (LEGACY_KEYS.has(name)) {
      ignored.push(name);
      continue;
    }
    if (!(typeof value === 'object' && value !== null && 'kind' in value && value.kind === 'ndarray')) {
      notArrays.push(`${name} (${describe(value)})`);
      continue;
    }
    const arr = value as NumpyArray;
    const { tensor, narrowed: was64 } = numpyToTensor(arr, `${path}: ${name}`);
    dtypes.add(
      { '<f4': 'float32', '<f2': 'float16', '<f8': 'float64', '<i8': 'int64' }[arr.dtype] ?? arr.dtype,
    );
    if (was64) narrowed++;
    tensors[name] = tensor;
  }
  if (notArrays.length)
    throw new ResdetError(
      `${path}: "model" holds values that are not numpy arrays: ${notArrays.slice(0, 8).join(', ')}`,
    );
  const author = top.entries.get('__author__');
  return {
    tensors,
    author: typeof author === 'string' ? author : undefined,
    ignored,
    dtypes: [...dtypes].sort(),
    narrowed,
  };
}

/** detectron2's name of a resdet C4 detector tensor (null: resdet-only, e.g. BN's batch counter). */
export function detectron2Name(resdetName: string): string | null {
  if (resdetName.endsWith('.num_batches_tracked')) return null;
  if (resdetName === 'backbone.conv1.weight') return 'backbone.stem.conv1.weight';
  let m = /^backbone\.bn1\.(\w+)$/.exec(resdetName);
  if (m) return `backbone.stem.conv1.norm.${m[1]}`;
  m = /^backbone\.layer(\d)\.(\d+)\.(.+)$/.exec(resdetName);
  if (m) {
    const stage = Number(m[1]);
    const prefix = stage === 4 ? `roi_heads.res5.${m[2]}` : `backbone.res${stage + 1}.${m[2]}`;
    const rest = m[3]
      .replace(/^conv(\d)\.weight$/, 'conv$1.weight')
      .replace(/^bn(\d)\./, 'conv$1.norm.')
      .replace(/^downsample\.0\./, 'shortcut.')
      .replace(/^downsample\.1\./, 'shortcut.norm.');
    return `${prefix}.${rest}`;
  }
  m = /^rpn\.head\.(conv|cls_logits|bbox_pred)\.(weight|bias)$/.exec(resdetName);
  if (m) {
    const layer = { conv: 'conv', cls_logits: 'objectness_logits', bbox_pred: 'anchor_deltas' }[m[1]];
    return `proposal_generator.rpn_head.${layer}.${m[2]}`;
  }
  if (resdetName.startsWith('roi_heads.box_predictor.')) return resdetName;
  return null;
}

function shapeOf(w: Detectron2Weights, name: string, label: string): readonly number[] {
  const t = w.tensors[name];
  if (!t)
    throw new ResdetError(
      `${label}: no ${name}: not a detectron2 Faster R-CNN C4 model`,
      'import detectron2 reads COCO-Detection/faster_rcnn_R_{50,101}_C4 model-zoo files',
    );
  return t.shape;
}

function blocks(w: Detectron2Weights, prefix: string): number {
  let n = 0;
  while (`${prefix}.${n}.conv1.weight` in w.tensors) n++;
  return n;
}

function archFor(layers: number[]): string | undefined {
  return Object.keys(ARCHS).find((a) => ARCHS[a].layers.every((n, i) => n === layers[i]));
}

/** resnet50 | resnet101 for an --arch value ('R50-C4', 'resnet101', ...), undefined when unknown. */
export function detectron2Arch(name: string): string | undefined {
  const lower = name.toLowerCase();
  return Object.keys(ARCHS).find(
    (a) => a === lower || ARCHS[a].aliases.some((x) => x.toLowerCase() === lower),
  );
}

/**
 * The C4 detector config a detectron2 file describes, with detectron2's conventions: stride on
 * the first 1x1 (`v1`), FrozenBN, size-major unrounded anchors at stride 16, RPN test top 6000 ->
 * NMS 0.7 -> 1000 ranked by logit, ROIAlignV2 (aligned, adaptive sampling) 14x14 -> res5 -> mean,
 * background last with K box regressors, score > 0.05, per-class NMS 0.5, top 100, empty boxes
 * dropped after rescaling, no padding.
 */
export function detectron2C4Config(w: Detectron2Weights, label: string, arch?: string): DetectorConfig {
  const names = Object.keys(w.tensors);
  const fpn = names.filter((n) => n.startsWith('backbone.fpn_') || n.startsWith('backbone.bottom_up.'));
  if (fpn.length)
    throw new ResdetError(
      `${label}: a detectron2 FPN model (${fpn.slice(0, 2).join(', ')}, ...), not a C4 one`,
      'import detectron2 reads the C4 models (faster_rcnn_R_50_C4_*, faster_rcnn_R_101_C4_*); for FPN see `resdet import torchvision --arch fasterrcnn_resnet50_fpn`',
    );
  if (names.some((n) => n.startsWith('backbone.res5.') || n.startsWith('roi_heads.box_head.')))
    throw new ResdetError(
      `${label}: res5 in the backbone or a box_head: a DC5 or FPN-style model, not C4`,
      'import detectron2 reads the C4 models (faster_rcnn_R_50_C4_*, faster_rcnn_R_101_C4_*)',
    );
  const cls = shapeOf(w, 'roi_heads.box_predictor.cls_score.weight', label);
  const box = shapeOf(w, 'roi_heads.box_predictor.bbox_pred.weight', label);
  const stem = shapeOf(w, 'backbone.stem.conv1.weight', label);
  const objectness = shapeOf(w, 'proposal_generator.rpn_head.objectness_logits.weight', label);
  const numClasses = cls[0] - 1;
  if (numClasses < 1) throw new ResdetError(`${label}: cls_score has ${cls[0]} outputs; at least 2 expected`);
  if (box[0] !== 4 * numClasses)
    throw new ResdetError(
      `${label}: bbox_pred has ${box[0]} outputs for ${numClasses} classes; resdet imports class-specific box regression (${4 * numClasses})`,
    );
  const numAnchors = D2_ANCHOR_SIZES.length * D2_ASPECT_RATIOS.length;
  if (objectness[0] !== numAnchors)
    throw new ResdetError(
      `${label}: ${objectness[0]} anchors per cell; resdet knows detectron2's default ${numAnchors} (sizes ${D2_ANCHOR_SIZES.join('/')} x ratios ${D2_ASPECT_RATIOS.join('/')})`,
    );
  const layers = [
    blocks(w, 'backbone.res2'),
    blocks(w, 'backbone.res3'),
    blocks(w, 'backbone.res4'),
    blocks(w, 'roi_heads.res5'),
  ];
  const found = archFor(layers);
  const depthText = `res2..res5 with ${layers.join(', ')} blocks`;
  if (arch !== undefined) {
    const wanted = detectron2Arch(arch);
    if (!wanted)
      throw new ResdetError(
        `--arch ${arch}: not a detectron2 C4 backbone`,
        'use R50-C4 (resnet50) or R101-C4 (resnet101)',
      );
    if (wanted !== found)
      throw new ResdetError(
        `--arch ${arch} (${ARCHS[wanted].layers.join(', ')} blocks) does not fit ${label}: it holds ${found ? `a ${found} C4 model` : 'a ResNet'} (${depthText})`,
        found ? `pass --arch ${ARCHS[found].aliases[0]} or leave --arch out` : undefined,
      );
  }
  if (!found) throw new ResdetError(`${label}: ${depthText} is neither ResNet-50 nor ResNet-101`);
  return detectorConfig({
    arch: found,
    numClasses,
    baseWidth: stem[0],
    frozenBn: true,
    freezeAt: 2,
    anchorSizes: [...D2_ANCHOR_SIZES],
    aspectRatios: [...D2_ASPECT_RATIOS],
    anchorGenerator: { order: 'size-major', round: false, stride: 16 },
    rpn: {
      preNmsTopNTrain: 12000,
      preNmsTopNTest: 6000,
      postNmsTopNTrain: 2000,
      postNmsTopNTest: 1000,
      nmsThreshold: 0.7,
      minSize: 0,
      detectron2Proposals: true,
    },
    roiHeads: {
      pooler: 'align',
      poolSize: 14,
      samplingRatio: 0,
      aligned: true,
      batchSizePerImage: 512,
      scoreThreshold: 0.05,
      nmsThreshold: 0.5,
      detectionsPerImage: 100,
      background: 'last',
      dropEmptyBoxes: 'after-rescale',
    },
    sizeDivisible: 1,
    backboneOverrides: { stridePlacement: 'v1', inChannels: stem[1] },
  });
}

/**
 * Loads detectron2 tensors into the model, checking names and shapes in detectron2's names first
 * (missing, unexpected and mis-shaped ones listed together).
 */
export async function loadDetectron2Tensors(
  model: FasterRCNN,
  w: Detectron2Weights,
  label: string,
): Promise<number> {
  const expected = await model.stateDict();
  const mapped: Record<string, SafeTensor> = {};
  const seen = new Set<string>();
  const missing: string[] = [];
  const misShaped: string[] = [];
  for (const [name, t] of Object.entries(expected)) {
    const d2 = detectron2Name(name);
    if (d2 === null) {
      mapped[name] = t; // resdet's own bookkeeping (BN batch counters)
      continue;
    }
    const src = w.tensors[d2];
    seen.add(d2);
    if (!src) {
      missing.push(d2);
      continue;
    }
    if (src.shape.length !== t.shape.length || src.shape.some((d, i) => d !== t.shape[i])) {
      misShaped.push(`${d2} (file [${src.shape.join(', ')}], model [${t.shape.join(', ')}])`);
      continue;
    }
    mapped[name] = src;
  }
  const unexpected = Object.keys(w.tensors).filter((n) => !seen.has(n));
  const list = (xs: string[]) =>
    `${xs.slice(0, 10).join(', ')}${xs.length > 10 ? `, ... (${xs.length} in all)` : ''}`;
  const problems: string[] = [];
  if (missing.length) problems.push(`missing: ${list(missing)}`);
  if (unexpected.length) problems.push(`unexpected: ${list(unexpected)}`);
  if (misShaped.length) problems.push(`mis-shaped: ${list(misShaped)}`);
  if (problems.length)
    throw new ResdetError(
      `${label}: does not fit a detectron2 ${model.config.arch} C4 detector with ${model.numClasses} classes: ${problems.join('; ')}`,
      'the file must be a complete faster_rcnn_R_{50,101}_C4 state dict',
    );
  model.loadStateDict(mapped, label);
  return Object.keys(w.tensors).length;
}

export interface Detectron2ImportOptions {
  /** R50-C4 / R101-C4 (or resnet50 / resnet101); checked against the file. Default: the file's. */
  arch?: string;
  /** Class names; default COCO's 80 (with their category ids) for 80 classes, else "0".."K-1". */
  classes?: string[];
  /** INPUT.MIN_SIZE_TEST / MAX_SIZE_TEST of the model's config (default 800 / 1333, the zoo's). */
  minSize?: number;
  maxSize?: number;
}

export interface Detectron2ImportSummary {
  arch: string;
  out: string;
  tensors: number;
  ignored: string[];
  dtypes: string[];
  narrowedFloat64: number;
  classes: number;
  categoryIds: boolean;
}

/** Reads a model-zoo pickle and writes a resdet detector checkpoint to `out`. */
export async function importDetectron2(
  weightsPath: string,
  out: string,
  opts: Detectron2ImportOptions = {},
): Promise<Detectron2ImportSummary> {
  const weights = readDetectron2Weights(weightsPath);
  const config = detectron2C4Config(weights, weightsPath, opts.arch);
  const k = config.numClasses;
  let classes: string[];
  let categoryIds: number[] | undefined;
  if (opts.classes) {
    if (opts.classes.length !== k)
      throw new ResdetError(
        `--classes gives ${opts.classes.length} names but ${weightsPath} has ${k} classes`,
      );
    classes = opts.classes;
  } else if (k === COCO_CATEGORIES.length) {
    classes = COCO_CATEGORIES.map((c) => c.name);
    categoryIds = COCO_CATEGORIES.map((c) => c.id);
  } else classes = Array.from({ length: k }, (_, i) => String(i));
  const model = new FasterRCNN(config);
  try {
    const tensors = await loadDetectron2Tensors(model, weights, weightsPath);
    const meta: DetectorMeta = {
      classes,
      categoryIds,
      preprocessing: {
        ...DETECTRON2_PREPROCESSING,
        minSize: opts.minSize ?? DETECTRON2_PREPROCESSING.minSize,
        maxSize: opts.maxSize ?? DETECTRON2_PREPROCESSING.maxSize,
      },
      extra: {
        source: {
          format: 'detectron2',
          file: basename(weightsPath),
          author: weights.author,
          dtypes: weights.dtypes,
          ignored: weights.ignored,
        },
      },
    };
    await saveDetector(out, model, meta);
    return {
      arch: config.arch,
      out,
      tensors,
      ignored: weights.ignored,
      dtypes: weights.dtypes,
      narrowedFloat64: weights.narrowed,
      classes: k,
      categoryIds: categoryIds !== undefined,
    };
  } finally {
    model.dispose();
  }
}
