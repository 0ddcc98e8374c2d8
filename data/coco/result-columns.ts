/**
 * Loaded results (CocoDataset.loadRes annotations) as the columns COCOeval reads, with what the
 * chosen comparison needs: masks for segm, keypoints for keypoints, and the area pycocotools
 * gives each result (w*h for box results, mask area for masks, keypoint extent for keypoints).
 */
import { ResdetError } from '../../core/errors.js';
import type { CocoDataset } from './dataset.js';
import type { Rle } from './mask.js';
import { type CocoResultArrays, resultsToArrays } from './results-fast.js';
import { checkedKeypoints, segmentationRle } from './segmentation.js';
import type { CocoAnnotation, CocoResult } from './types.js';

export type ResultShape = 'bbox' | 'segm' | 'keypoints';

export function resultColumns(
  anns: readonly CocoAnnotation[],
  shape: ResultShape,
  gt: CocoDataset,
  source: string,
): CocoResultArrays {
  const cols = resultsToArrays(anns as unknown as CocoResult[]);
  const area = new Float64Array(anns.length);
  for (let i = 0; i < anns.length; i++) area[i] = anns[i].area;
  cols.area = area;
  if (shape === 'segm') {
    const masks: Rle[] = new Array(anns.length);
    for (let i = 0; i < anns.length; i++) {
      const a = anns[i];
      if (a.segmentation === undefined)
        throw new ResdetError(
          `${source}: [${i}]: missing field "segmentation"`,
          'segm evaluation needs a mask on every result ({"segmentation": {"size": [h, w], "counts": "..."}})',
        );
      masks[i] = segmentationRle(a, gt.images.get(a.image_id), `${source}: [${i}]`);
    }
    cols.masks = masks;
  } else if (shape === 'keypoints') {
    let K = -1;
    let kp = new Float64Array(0);
    for (let i = 0; i < anns.length; i++) {
      const v = checkedKeypoints(anns[i].keypoints, `${source}: [${i}]`, K < 0 ? undefined : K);
      if (K < 0) {
        K = v.length / 3;
        kp = new Float64Array(anns.length * 3 * K);
      }
      kp.set(v, i * 3 * K);
    }
    cols.keypoints = kp;
  }
  return cols;
}
