/** A detector resdet can build or import, with the published COCO box AP of its pretrained weights. */
export interface DetectorCatalogEntry {
  name: string;
  design: 'FPN' | 'C4';
  /** COCO val2017 box AP of the published weights (the source's own figure). */
  cocoBoxAp: number;
  /** Where the published weights come from. */
  weights: string;
  /** The resdet command that brings them in. */
  command: string;
}

/** The permissively licensed zoos resdet reads (torchvision BSD-3, detectron2 Apache-2.0). */
export const DETECTOR_CATALOG: readonly DetectorCatalogEntry[] = [
  {
    name: 'fasterrcnn_resnet50_fpn',
    design: 'FPN',
    cocoBoxAp: 37.0,
    weights:
      'torchvision FasterRCNN_ResNet50_FPN_Weights.COCO_V1 (download.pytorch.org/models/fasterrcnn_resnet50_fpn_coco-258fb6c6.pth)',
    command: 'resdet import torchvision --arch fasterrcnn_resnet50_fpn --weights FILE.safetensors --out DIR',
  },
  {
    name: 'fasterrcnn_resnet50_fpn_v2',
    design: 'FPN',
    cocoBoxAp: 46.7,
    weights:
      'torchvision FasterRCNN_ResNet50_FPN_V2_Weights.COCO_V1 (download.pytorch.org/models/fasterrcnn_resnet50_fpn_v2_coco-dd69338a.pth)',
    command:
      'resdet import torchvision --arch fasterrcnn_resnet50_fpn_v2 --weights FILE.safetensors --out DIR',
  },
  {
    name: 'detectron2 R50-C4 1x',
    design: 'C4',
    cocoBoxAp: 35.7,
    weights:
      'detectron2 model zoo, dl.fbaipublicfiles.com/detectron2/COCO-Detection/faster_rcnn_R_50_C4_1x/137257644/model_final_721ade.pkl',
    command: 'resdet import detectron2 --weights model_final_xxx.pkl --out DIR',
  },
  {
    name: 'detectron2 R50-C4 3x',
    design: 'C4',
    cocoBoxAp: 38.4,
    weights:
      'detectron2 model zoo, dl.fbaipublicfiles.com/detectron2/COCO-Detection/faster_rcnn_R_50_C4_3x/137849393/model_final_f97cb7.pkl',
    command: 'resdet import detectron2 --weights model_final_xxx.pkl --out DIR',
  },
  {
    name: 'detectron2 R101-C4 3x',
    design: 'C4',
    cocoBoxAp: 41.1,
    weights:
      'detectron2 model zoo, dl.fbaipublicfiles.com/detectron2/COCO-Detection/faster_rcnn_R_101_C4_3x/138204752/model_final_298dad.pkl',
    command: 'resdet import detectron2 --weights model_final_xxx.pkl --out DIR',
  },
];

/** What can be built without published weights. */
export const BUILDABLE_DETECTORS: readonly string[] = [
  'C4 Faster R-CNN on any ResNet: resdet train-detector --backbone ARCH|CLASSIFIER_DIR (from scratch or a pretrained trunk)',
  'fine-tune any detector checkpoint on new classes: resdet train-detector --from DIR (box predictor rebuilt)',
];
