import type { Command } from 'commander';
import * as bench from './bench.js';
import * as classify from './classify.js';
import * as data from './data.js';
import * as demo from './demo.js';
import * as detect from './detect.js';
import * as evaluate from './evaluate.js';
import * as evaluateDetector from './evaluate-detector.js';
import * as evalCmd from './eval.js';
import * as experiment from './experiment.js';
import * as exportCmd from './export.js';
import * as importCmd from './import.js';
import * as info from './info.js';
import * as init from './init.js';
import * as models from './models.js';
import * as plot from './plot.js';
import * as pretrain from './pretrain.js';
import * as queue from './queue.js';
import * as serve from './serve.js';
import * as trainDetector from './train-detector.js';

/** Every `resdet` subcommand; each module registers itself on the program. */
export const commands: ReadonlyArray<{ register(program: Command): void }> = [
  info,
  demo,
  models,
  init,
  importCmd,
  exportCmd,
  classify,
  evalCmd,
  data,
  serve,
  pretrain,
  evaluate,
  plot,
  experiment,
  trainDetector,
  detect,
  evaluateDetector,
  bench,
  queue,
];
