import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('demo')
    .description('the main job: make a synthetic set, train a small detector, evaluate it, draw detections')
    .option('--out <dir>', 'where everything goes', 'runs/demo')
    .action(async () => {
      console.log('resdet demo: the detector pipeline is not wired in yet (see the Faster R-CNN issue).');
    });
}
