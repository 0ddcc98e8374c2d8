import { basename, dirname } from 'node:path';
import type { Command } from 'commander';
import { curvesChart, readRunCurves } from '../../backbone/pretrain/curves.js';
import { writeChartPng } from '../../core/plot.js';
import { parseFloatOption, parseIntOption } from '../common.js';

interface PlotFlags {
  out: string;
  title?: string;
  epochs?: boolean;
  smooth?: number;
  yMax?: number;
}

export function register(program: Command): void {
  program
    .command('plot')
    .description(
      "draw training (dashed) and test (solid) error curves from pretraining metrics, like the paper's Fig. 4 and 6",
    )
    .argument('<metrics...>', 'one or more DIR/metrics.jsonl files (NAME=PATH to name a run)')
    .requiredOption('--out <png>', 'output PNG (an .svg name writes SVG)')
    .option('--title <text>', 'chart title')
    .option('--epochs', 'x axis in epochs instead of iterations')
    .option('--smooth <k>', 'trailing mean over k training points', parseIntOption('--smooth', 1))
    .option('--y-max <percent>', 'top of the error axis', parseFloatOption('--y-max', { above: 0 }))
    .action(async (paths: string[], flags: PlotFlags) => {
      const runs = paths.map((arg) => {
        const eq = arg.indexOf('=');
        const [name, path] = eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [basename(dirname(arg)), arg];
        return readRunCurves(path, name);
      });
      const spec = curvesChart(runs, {
        title: flags.title,
        epochs: flags.epochs,
        smooth: flags.smooth,
        yMax: flags.yMax,
      });
      if (flags.out.endsWith('.svg')) {
        const { renderLineChart } = await import('../../core/plot.js');
        const { writeFileAtomic } = await import('../../core/atomic.js');
        writeFileAtomic(flags.out, [renderLineChart(spec)]);
      } else await writeChartPng(flags.out, spec);
      console.log(`wrote ${flags.out} (${runs.length} run${runs.length === 1 ? '' : 's'})`);
    });
}
