import { resnetConfig } from '../../backbone/config.js';
import { ResdetError, UsageError } from '../../core/errors.js';
import type { SafeTensor, SafetensorsFile } from '../../core/safetensors.js';
import { cocoLabelLayout } from '../../data/detection/coco-categories.js';
import {
  FPN_ANCHOR_SIZES,
  FPN_ARCHS,
  FPN_LEVEL_MAPPER,
  FPN_ROI_HEADS,
  FPN_RPN,
  FPN_TRANSFORM,
  type FpnDetectorConfig,
  type FpnVariant,
  type RcnnTransformConfig,
} from '../model/fpn-config.js';
import { FpnFasterRCNN } from '../model/generalized-rcnn.js';

/** A tensor only v1 (TwoMLPHead) or only v2 (FastRCNNConvFCHead) files hold. */
const VARIANT_MARKERS: Record<FpnVariant, string> = {
  v1: 'roi_heads.box_head.fc6.weight',
  v2: 'roi_heads.box_head.0.0.weight',
};

const ARCH_OF: Record<FpnVariant, string> = {
  v1: 'fasterrcnn_resnet50_fpn',
  v2: 'fasterrcnn_resnet50_fpn_v2',
};

/**
 * torchvision < 0.13 names of v1's RPN conv and FPN convs (before they became Conv2dNormActivation
 * blocks); torchvision renames them on load, and so does this importer.
 */
export function currentTorchvisionName(name: string): string {
  const rpn = /^rpn\.head\.conv\.(weight|bias)$/.exec(name);
  if (rpn) return `rpn.head.conv.0.0.${rpn[1]}`;
  const fpn = /^backbone\.fpn\.(inner_blocks|layer_blocks)\.(\d+)\.(weight|bias)$/.exec(name);
  if (fpn) return `backbone.fpn.${fpn[1]}.${fpn[2]}.0.${fpn[3]}`;
  return name;
}

export interface ImportedFpnDetector {
  model: FpnFasterRCNN;
  /** torchvision's label layout: index = label = COCO category id, '__background__' at 0. */
  classes: string[];
  categoryIds: number[];
  /** Tensors read, and how many had an older name. */
  tensors: number;
  renamed: number;
  dtypes: string[];
}

function variantOf(names: Set<string>): FpnVariant | undefined {
  if (names.has(VARIANT_MARKERS.v1)) return 'v1';
  if (names.has(VARIANT_MARKERS.v2)) return 'v2';
  return undefined;
}

function listNames(names: string[], max = 12): string {
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown} and ${names.length - max} more` : shown;
}

/**
 * Reads a torchvision fasterrcnn_resnet50_fpn(_v2) state dict (current or older key names, F32,
 * F16 or BF16) into an FPN detector. Depths and widths come from the file (so reduced models
 * import too); every tensor the model needs is checked by name and shape, and all problems are
 * reported together.
 */
export function importTorchvisionFpn(
  file: SafetensorsFile,
  arch: string,
  opts: { transform?: Partial<RcnnTransformConfig> } = {},
): ImportedFpnDetector {
  const variant = FPN_ARCHS[arch];
  if (!variant) {
    throw new UsageError(
      `unknown detector arch "${arch}"`,
      `supported: ${Object.keys(FPN_ARCHS).join(', ')}`,
    );
  }
  const tensors: Record<string, SafeTensor> = {};
  let renamed = 0;
  for (const name of file.names()) {
    const current = currentTorchvisionName(name);
    if (current !== name) renamed++;
    tensors[current] = file.tensor(name);
  }
  const names = new Set(Object.keys(tensors));
  const found = variantOf(names);
  if (!found) {
    throw new ResdetError(
      `${file.label}: neither ${VARIANT_MARKERS.v1} nor ${VARIANT_MARKERS.v2}: not a torchvision Faster R-CNN R50-FPN state dict`,
      'save `model.state_dict()` of torchvision.models.detection.fasterrcnn_resnet50_fpn(_v2) (see the README)',
    );
  }
  if (found !== variant) {
    throw new ResdetError(
      `${file.label}: holds ${ARCH_OF[found]} weights (it has ${VARIANT_MARKERS[found]}), not ${arch}`,
      `pass --arch ${ARCH_OF[found]}`,
    );
  }
  const shape = (name: string): readonly number[] | undefined => tensors[name]?.shape;
  const layers = [1, 2, 3, 4].map((s) => {
    let n = 0;
    while (names.has(`backbone.body.layer${s}.${n}.conv1.weight`)) n++;
    return n || [3, 4, 6, 3][s - 1];
  });
  if (names.has('backbone.body.layer1.0.conv1.weight') && !names.has('backbone.body.layer1.0.conv3.weight')) {
    throw new ResdetError(
      `${file.label}: backbone.body.layer1.0 has no conv3: a BasicBlock ResNet, but the R50-FPN detectors use Bottlenecks`,
    );
  }
  const baseWidth = shape('backbone.body.conv1.weight')?.[0] ?? 64;
  const fpnChannels = shape('backbone.fpn.layer_blocks.0.0.weight')?.[0] ?? 256;
  const representationSize = shape('roi_heads.box_predictor.cls_score.weight')?.[1] ?? 1024;
  const numOutputs = shape('roi_heads.box_predictor.cls_score.weight')?.[0] ?? 91;
  const numAnchors = shape('rpn.head.cls_logits.weight')?.[0] ?? 3;
  if (numAnchors !== 3) {
    throw new ResdetError(
      `${file.label}: rpn.head.cls_logits.weight has ${numAnchors} anchors per location; torchvision's R50-FPN has 3 (one size per level, ratios 0.5, 1, 2)`,
    );
  }
  const config: FpnDetectorConfig = {
    kind: 'fpn',
    arch,
    variant,
    backbone: resnetConfig('resnet50', {
      layers,
      baseWidth,
      numClasses: 0,
      // v1's published weights run FrozenBatchNorm2d with eps overwritten to 0; v2 is BatchNorm2d.
      bnEps: variant === 'v1' ? 0 : 1e-5,
      frozenBn: variant === 'v1',
      freezeAt: 2,
    }),
    fpnChannels,
    representationSize,
    numClasses: numOutputs - 1,
    anchorSizes: [...FPN_ANCHOR_SIZES],
    aspectRatios: [0.5, 1, 2],
    rpn: { ...FPN_RPN },
    roiHeads: { ...FPN_ROI_HEADS },
    levelMapper: { ...FPN_LEVEL_MAPPER },
    transform: { ...FPN_TRANSFORM, ...opts.transform },
    seed: 0,
  };
  const model = new FpnFasterRCNN(config);
  try {
    const want = model.torchShapes();
    // FrozenBatchNorm2d has no num_batches_tracked; the model keeps one per BN (zero).
    for (const name of Object.keys(want)) {
      if (name.endsWith('.num_batches_tracked') && !names.has(name))
        tensors[name] = { dtype: 'I64', shape: [], data: BigInt64Array.of(0n) };
    }
    const missing = Object.keys(want).filter((n) => !(n in tensors));
    const unexpected = Object.keys(tensors).filter((n) => !(n in want));
    const misShaped = Object.keys(want)
      .filter((n) => n in tensors && !n.endsWith('num_batches_tracked'))
      .filter((n) => JSON.stringify(tensors[n].shape) !== JSON.stringify(want[n]))
      .map((n) => `${n} (file ${JSON.stringify(tensors[n].shape)}, model ${JSON.stringify(want[n])})`);
    const problems: string[] = [];
    if (missing.length) problems.push(`missing: ${listNames(missing)}`);
    if (unexpected.length) problems.push(`unexpected: ${listNames(unexpected)}`);
    if (misShaped.length) problems.push(`mis-shaped: ${listNames(misShaped)}`);
    if (problems.length) {
      throw new ResdetError(
        `${file.label}: weights do not match ${arch}: ${problems.join('; ')}`,
        'the file must hold a complete torchvision state_dict of this architecture',
      );
    }
    model.loadStateDict(tensors, file.label);
  } catch (err) {
    model.dispose();
    throw err;
  }
  const classes =
    numOutputs === 91
      ? cocoLabelLayout()
      : Array.from({ length: numOutputs }, (_, i) => (i === 0 ? '__background__' : String(i)));
  return {
    model,
    classes,
    categoryIds: classes.map((_, i) => i),
    tensors: file.names().length,
    renamed,
    dtypes: [...new Set(file.names().map((n) => file.info(n).dtype))].sort(),
  };
}
