import type { Command } from 'commander';

export interface CommandModule {
  register(program: Command): void;
}

/**
 * Every `resdet` subcommand: its name, the description `resdet --help` lists, and the module
 * that registers it. Modules load only when their command runs (most pull in TF.js, sharp or
 * express, ~0.5 s of start-up that `resdet --help` and `resdet eval` do not need).
 * test/tools/lazy-commands.test.ts checks that each description equals its module's.
 */
export const commandTable: ReadonlyArray<{
  name: string;
  description: string;
  load(): Promise<CommandModule>;
}> = [
  {
    name: 'info',
    description:
      'show resdet and TF.js versions, the chosen backend and why each backend is or is not available',
    load: () => import('./info.js'),
  },
  {
    name: 'demo',
    description: 'the main job: make a synthetic set, train a small detector, evaluate it, draw detections',
    load: () => import('./demo.js'),
  },
  {
    name: 'models',
    description: 'list the ResNet architectures with parameters and multiply-adds at their native input size',
    load: () => import('./models.js'),
  },
  {
    name: 'init',
    description: 'create a randomly initialised (He init) model checkpoint',
    load: () => import('./init.js'),
  },
  {
    name: 'import',
    description: 'import published weights into a resdet checkpoint',
    load: () => import('./import.js'),
  },
  {
    name: 'export',
    description: "export a classifier's weights as a torchvision state_dict in .safetensors",
    load: () => import('./export.js'),
  },
  {
    name: 'classify',
    description: "classify images with a classifier checkpoint (torchvision's eval transform by default)",
    load: () => import('./classify.js'),
  },
  {
    name: 'eval',
    description:
      'detection mAP: COCO (pycocotools bbox, segm and keypoints protocols, diagnostics) and PASCAL VOC',
    load: () => import('./eval.js'),
  },
  {
    name: 'data',
    description: 'detection datasets: convert, synth, stats',
    load: () => import('./data.js'),
  },
  {
    name: 'serve',
    description: 'serve a detector (and optionally a classifier) over HTTP, with a web page at /',
    load: () => import('./serve.js'),
  },
  {
    name: 'pretrain',
    description:
      "train a ResNet classifier with the paper's recipe (ImageNet §3.4 or CIFAR §4.2); checkpoints every epoch and on Ctrl-C, --resume continues",
    load: () => import('./pretrain.js'),
  },
  {
    name: 'evaluate',
    description:
      "top-1 and top-5 error of a pretrained classifier (optionally with the paper's 10-crop testing)",
    load: () => import('./evaluate.js'),
  },
  {
    name: 'plot',
    description:
      "draw training curves from metrics.jsonl: a pretraining run's training (dashed) and test (solid) error, like the paper's Fig. 4 and 6; a detector run's losses and mAP",
    load: () => import('./plot.js'),
  },
  {
    name: 'experiment',
    description: "the paper's experiments as commands",
    load: () => import('./experiment.js'),
  },
  {
    name: 'train-detector',
    description:
      'train a Faster R-CNN (C4) detector on a ResNet backbone (checkpoints, --resume, metrics.jsonl, loss.png)',
    load: () => import('./train-detector.js'),
  },
  {
    name: 'detect',
    description: 'detect objects in images with a trained detector',
    load: () => import('./detect.js'),
  },
  {
    name: 'evaluate-detector',
    description:
      'run a detector over a dataset, write COCO results JSON and VOC devkit files, and report mAP',
    load: () => import('./evaluate-detector.js'),
  },
  {
    name: 'bench',
    description: 'measure training-step and forward-pass throughput (img/s) on the chosen backend',
    load: () => import('./bench.js'),
  },
  {
    name: 'queue',
    description: 'distributed detection and evaluation on a BullMQ (Redis) job queue',
    load: () => import('./queue.js'),
  },
];
