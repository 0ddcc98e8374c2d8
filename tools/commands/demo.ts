import type { Command } from 'commander';
import { runDemo } from '../../detection/demo.js';
import { abortOnSignals } from '../abort.js';
import {
  applyWasmThreads,
  parseFloatOption,
  parseIntOption,
  parseThreadsOption,
  printJson,
  useBackend,
  WASM_THREADS_HELP,
} from '../common.js';

interface DemoFlags {
  out: string;
  minutes: number;
  train: number;
  test: number;
  size: number;
  seed: number;
  threads?: number;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('the main job: make a synthetic set, train a small detector, evaluate it, draw detections')
    .option('--out <dir>', 'where everything goes', 'runs/demo')
    .option(
      '--minutes <m>',
      'training time budget (the schedule is fitted to it)',
      parseFloatOption('--minutes', { above: 0 }),
      5,
    )
    .option('--train <n>', 'synthetic training images', parseIntOption('--train', 1), 400)
    .option('--test <n>', 'synthetic test images', parseIntOption('--test', 1), 60)
    .option('--size <px>', 'image side (also the detector input size)', parseIntOption('--size', 64), 192)
    .option('--seed <n>', 'seed for the data and the run', parseIntOption('--seed', 0), 0)
    .option('--threads <n>', WASM_THREADS_HELP, parseThreadsOption)
    .option('--json', 'print the summary as JSON')
    .action(async (flags: DemoFlags, cmd: Command) => {
      applyWasmThreads(flags.threads, 'long');
      const backend = await useBackend(cmd);
      const abort = abortOnSignals();
      const s = await runDemo({
        out: flags.out,
        minutes: flags.minutes,
        train: flags.train,
        test: flags.test,
        size: flags.size,
        seed: flags.seed,
        backend,
        signal: abort.signal,
        silent: flags.json,
        log: flags.json ? () => {} : undefined,
      }).finally(() => abort.dispose());
      if (flags.json) {
        printJson(s);
        return;
      }
      console.log('');
      console.log(`trained ${s.iterations} iterations in ${s.trainSeconds} s on ${s.backend}`);
      console.log(
        `VOC07 mAP@0.5 ${s.voc07_mAP.toFixed(3)}   COCO AP ${s.coco_AP.toFixed(3)}   AP50 ${s.coco_AP50.toFixed(3)}`,
      );
      console.log('');
      console.log(`data          ${s.data}  (VOC tree + COCO json)`);
      console.log(`detector      ${s.model}  (checkpoint; metrics.jsonl)`);
      console.log(`loss curves   ${s.lossPlot}`);
      console.log(`detections    ${s.results.cocoJson}  and  ${s.results.vocDir}/`);
      console.log(`scores        ${s.summary}`);
      console.log(`drawing       ${s.drawing}`);
      console.log('');
      console.log(`next: npx resdet detect --model ${s.model} IMAGE --draw out.png`);
      console.log(`      npx resdet serve --detector ${s.model}`);
    });
}
