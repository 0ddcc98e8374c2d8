import { ResdetError } from '../../core/errors.js';
import type { SafeTensor } from '../../core/safetensors.js';
import type { DetectorConfig, RoiHeadsConfig, RpnConfig } from '../model/config.js';
import { FasterRCNN } from '../model/faster-rcnn.js';
import type { FpnDetectorConfig } from '../model/fpn-config.js';
import { FpnFasterRCNN } from '../model/generalized-rcnn.js';
import type { TwoStageDetector } from '../model/two-stage.js';

const PREDICTOR = 'roi_heads.box_predictor.';

export interface FineTuneOptions {
  /** Object classes of the new data (without the background). */
  numClasses: number;
  /** Keep the checkpoint's predictor (same classes): a count mismatch is an error naming both shapes. */
  keepPredictor?: boolean;
  /** ResNet stages frozen from the input side, 0..5 (torchvision's trainable_layers = 5 - freezeAt). */
  freezeAt?: number;
  /** Frozen BN (running statistics, fixed affine) or BN trained with batch statistics. */
  frozenBn?: boolean;
  /** FPN models: the transform's sizes for the new data. */
  minSize?: number;
  maxSize?: number;
  /** Training-time overrides (e.g. fewer sampled RoIs on a CPU). */
  rpn?: Partial<RpnConfig>;
  roiHeads?: Partial<RoiHeadsConfig>;
}

function describeShape(t: { shape: readonly number[] }): string {
  return `[${t.shape.join(', ')}]`;
}

/**
 * A detector for new classes from a trained or imported one: every tensor is kept except the box
 * predictor (cls_score, bbox_pred), which starts fresh with numClasses + 1 outputs (torchvision's
 * fine-tuning recipe: replace FastRCNNPredictor). The source is not modified.
 */
export async function fineTuneDetector<T extends TwoStageDetector>(
  source: T,
  opts: FineTuneOptions,
): Promise<T> {
  const sourceState = await source.stateDict();
  const cls = sourceState[`${PREDICTOR}cls_score.weight`];
  if (opts.keepPredictor && cls.shape[0] !== opts.numClasses + 1) {
    throw new ResdetError(
      `--keep-predictor: the checkpoint's ${PREDICTOR}cls_score.weight is ${describeShape(cls)} (${cls.shape[0] - 1} classes + background), the data needs [${opts.numClasses + 1}, ${cls.shape[1]}] (${opts.numClasses} classes + background)`,
      "drop --keep-predictor to start a new predictor for the data's classes",
    );
  }
  let model: TwoStageDetector;
  if (source instanceof FpnFasterRCNN) {
    const config: FpnDetectorConfig = structuredClone(source.config);
    config.numClasses = opts.numClasses;
    config.rpn = { ...config.rpn, ...opts.rpn };
    config.roiHeads = { ...config.roiHeads, ...opts.roiHeads };
    if (opts.minSize !== undefined) config.transform.minSize = opts.minSize;
    if (opts.maxSize !== undefined)
      config.transform.maxSize = Math.max(opts.maxSize, config.transform.minSize);
    model = new FpnFasterRCNN(config);
  } else {
    const config: DetectorConfig = structuredClone(source.config);
    config.numClasses = opts.numClasses;
    config.rpn = { ...config.rpn, ...opts.rpn };
    config.roiHeads = { ...config.roiHeads, ...opts.roiHeads };
    model = new FasterRCNN(config);
  }
  try {
    const fresh = await model.stateDict();
    const state: Record<string, SafeTensor> = {};
    for (const [name, t] of Object.entries(sourceState))
      state[name] = name.startsWith(PREDICTOR) && !opts.keepPredictor ? fresh[name] : t;
    model.loadStateDict(state, 'the --from checkpoint');
    const target = model instanceof FpnFasterRCNN ? model : model.backbone;
    if (opts.frozenBn !== undefined) target.setFrozenBn(opts.frozenBn);
    if (opts.freezeAt !== undefined) target.setFreezeAt(opts.freezeAt);
  } catch (err) {
    model.dispose();
    throw err;
  }
  return model as T;
}
