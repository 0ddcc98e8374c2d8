import type { Command } from 'commander';
import { loadClassifier, type Prediction } from '../../backbone/classifier.js';
import { decodeImage } from '../../data/image/decode.js';
import { parseIntOption, printJson, useBackend } from '../common.js';
import { forEachImage } from '../per-image.js';

interface ClassifyCliOptions {
  model: string;
  topk: number;
  json?: boolean;
  /** commander's --no-resize sets this to false. */
  resize: boolean;
}

export interface ImageResult {
  image: string;
  top: Prediction[];
}

export function register(program: Command): void {
  program
    .command('classify')
    .description("classify images with a classifier checkpoint (torchvision's eval transform by default)")
    .argument('<images...>', 'JPEG, PNG or WebP files')
    .requiredOption('--model <dir>', 'classifier checkpoint directory')
    .option('--topk <k>', 'how many classes to show per image', parseIntOption('--topk', 1), 5)
    .option('--json', 'machine-readable output: [{"image", "top": [{"index", "label", "prob", "logit"}]}]')
    .option('--no-resize', 'feed each image as it is (no resize to 256, no centre crop)')
    .action(async (images: string[], opts: ClassifyCliOptions, cmd: Command) => {
      await useBackend(cmd);
      const classifier = loadClassifier(opts.model);
      let run: Awaited<ReturnType<typeof forEachImage<ImageResult>>>;
      try {
        run = await forEachImage(images, async (image): Promise<ImageResult> => {
          // Alpha is dropped, not blended: the same pixels torchvision's PIL `convert("RGB")` loader sees.
          const rgb = await decodeImage(image, { alpha: 'discard' });
          const top = await classifier.classify(rgb, { topk: opts.topk, noResize: !opts.resize });
          if (!opts.json) {
            console.log(image);
            top.forEach((p, i) => {
              console.log(
                `  ${String(i + 1).padStart(2)}. ${(p.prob * 100).toFixed(2).padStart(6)}%  ${p.label} (${p.index}, logit ${p.logit.toFixed(4)})`,
              );
            });
          }
          return { image, top };
        });
      } finally {
        classifier.dispose();
      }
      if (opts.json) printJson(run.results);
      run.finish();
    });
}
