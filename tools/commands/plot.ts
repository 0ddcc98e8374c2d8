import { basename, dirname } from 'node:path';
import type { Command } from 'commander';
import { curvesChart, readRunCurves } from '../../backbone/pretrain/curves.js';
import { writeFileAtomic } from '../../core/atomic.js';
import { UsageError } from '../../core/errors.js';
import { renderChartGrid, renderLineChart, writeChartGridPng, writeChartPng } from '../../core/plot.js';
import { metricsPath, readMetrics, runKind } from '../../core/train/metrics.js';
import { detectorCharts } from '../../detection/train/plot.js';
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
      "draw training curves from metrics.jsonl: a pretraining run's training (dashed) and test (solid) error, like the paper's Fig. 4 and 6; a detector run's losses and mAP",
    )
    .argument(
      '<metrics...>',
      'one or more DIR/metrics.jsonl files or run directories (NAME=PATH to name a run)',
    )
    .requiredOption('--out <png>', 'output PNG (an .svg name writes SVG)')
    .option('--title <text>', 'chart title')
    .option('--epochs', 'x axis in epochs instead of iterations (pretraining runs)')
    .option('--smooth <k>', 'trailing mean over k training points', parseIntOption('--smooth', 1))
    .option(
      '--y-max <percent>',
      'top of the error axis (pretraining runs)',
      parseFloatOption('--y-max', { above: 0 }),
    )
    .action(async (paths: string[], flags: PlotFlags) => {
      const runs = paths.map((arg) => {
        const eq = arg.indexOf('=');
        const [name, given] = eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [undefined, arg];
        const path = metricsPath(given);
        const records = readMetrics(path);
        return { name: name ?? basename(dirname(path)), path, records, kind: runKind(records) };
      });
      const kinds = new Set(runs.map((r) => r.kind));
      if (kinds.has('detector') && kinds.size > 1) {
        throw new UsageError(
          'plot: give either pretraining runs or detector runs, not both',
          'their curves (error in % against losses) do not share axes; plot them separately',
        );
      }
      let svg: string | undefined;
      if (kinds.has('detector')) {
        const grid = detectorCharts(
          runs,
          flags.title ?? `${runs.map((r) => r.name).join(', ')}: detector training`,
          flags.smooth,
        );
        if (!grid) throw new UsageError('plot: the detector runs have no training records yet');
        if (flags.out.endsWith('.svg')) svg = renderChartGrid(grid);
        else await writeChartGridPng(flags.out, grid);
      } else {
        const spec = curvesChart(
          runs.map((r) => readRunCurves(r.path, r.name)),
          { title: flags.title, epochs: flags.epochs, smooth: flags.smooth, yMax: flags.yMax },
        );
        if (flags.out.endsWith('.svg')) svg = renderLineChart(spec);
        else await writeChartPng(flags.out, spec);
      }
      if (svg !== undefined) writeFileAtomic(flags.out, [svg]);
      console.log(`wrote ${flags.out} (${runs.length} run${runs.length === 1 ? '' : 's'})`);
    });
}
