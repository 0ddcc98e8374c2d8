import { existsSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { decodeImage } from '../../data/image/decode.js';
import { loadDetector } from '../../detection/app/detector.js';
import { drawDetections } from '../../detection/app/draw.js';
import { parseFloatOption, parseIntOption, printJson, useBackend } from '../common.js';
import { forEachImage } from '../per-image.js';

interface DetectFlags {
  model: string;
  json?: boolean;
  draw?: string;
  scoreThreshold?: number;
  maxDetections?: number;
}

/** Where the drawing of image i goes: --draw itself for one image, else a PNG per image inside it. */
function drawPath(draw: string, image: string, count: number): string {
  if (count === 1 && !(existsSync(draw) && statSync(draw).isDirectory())) return draw;
  return join(draw, `${basename(image, extname(image))}.png`);
}

export function register(program: Command): void {
  program
    .command('detect')
    .description('detect objects in images with a trained detector')
    .argument('<images...>', 'image files (JPEG, PNG, WebP, ...)')
    .requiredOption('--model <dir>', 'detector checkpoint directory')
    .option('--json', 'print detections as JSON')
    .option('--draw <out>', 'draw boxes and labels: a PNG path for one image, a folder for several')
    .option(
      '--score-threshold <t>',
      "keep detections scoring above t (default 0.5 for printing); at or below the model's own test threshold (0.05), e.g. 0: exactly what the model keeps",
      parseFloatOption('--score-threshold', { min: 0, max: 1 }),
    )
    .option(
      '--max-detections <n>',
      'at most n per image (default 100)',
      parseIntOption('--max-detections', 1),
    )
    .action(async (images: string[], flags: DetectFlags, cmd: Command) => {
      for (const image of images) {
        if (!existsSync(image)) throw new UsageError(`${image}: no such file`);
      }
      if (flags.draw && images.length > 1 && extname(flags.draw).toLowerCase() === '.png') {
        throw new UsageError(
          '--draw: give a folder when detecting in several images',
          `e.g. --draw ${basename(flags.draw, '.png')}/`,
        );
      }
      await useBackend(cmd);
      const detector = await loadDetector(flags.model);
      try {
        // Printing every low-confidence candidate is noise; evaluation uses the model's 0.05.
        const scoreThreshold = flags.scoreThreshold ?? 0.5;
        const run = await forEachImage(images, async (image) => {
          const rgb = await decodeImage(image);
          const t0 = performance.now();
          const detections = await detector.detect(rgb, {
            scoreThreshold,
            maxDetections: flags.maxDetections,
          });
          const ms = performance.now() - t0;
          let drawn: string | undefined;
          if (flags.draw) {
            drawn = drawPath(flags.draw, image, images.length);
            await drawDetections(rgb, detections, drawn, { classes: detector.classes });
          }
          const result = {
            image,
            width: rgb.width,
            height: rgb.height,
            ms: Math.round(ms),
            detections,
            drawn,
          };
          if (!flags.json) {
            console.log(
              `${image} (${rgb.width}x${rgb.height}, ${Math.round(ms)} ms): ${detections.length} detections`,
            );
            for (const d of detections) {
              const box = d.box.map((v) => v.toFixed(1)).join(', ');
              console.log(`  ${d.label.padEnd(14)} ${d.score.toFixed(3)}  [${box}]`);
            }
            if (drawn) console.log(`  drawn to ${drawn}`);
          }
          return result;
        });
        if (flags.json) printJson(images.length === 1 ? run.results[0] : run.results);
        run.finish();
      } finally {
        detector.dispose();
      }
    });
}
