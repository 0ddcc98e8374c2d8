import { type Command, Option } from 'commander';
import { describeArchs } from '../../backbone/catalog.js';
import type { StridePlacement } from '../../backbone/config.js';
import { BUILDABLE_DETECTORS, DETECTOR_CATALOG } from '../../detection/app/catalog.js';
import { printJson } from '../common.js';

function printDetectors(json: boolean | undefined): void {
  if (json) {
    printJson({ pretrained: DETECTOR_CATALOG, buildable: BUILDABLE_DETECTORS });
    return;
  }
  console.log(`${'detector'.padEnd(27)} design  COCO box AP  weights / command`);
  for (const d of DETECTOR_CATALOG) {
    console.log(
      `${d.name.padEnd(27)} ${d.design.padEnd(6)}  ${d.cocoBoxAp.toFixed(1).padStart(11)}  ${d.weights}`,
    );
    console.log(`${''.padEnd(50)}${d.command}`);
  }
  console.log('also built here:');
  for (const b of BUILDABLE_DETECTORS) console.log(`  ${b}`);
}

export function register(program: Command): void {
  program
    .command('models')
    .description('list the ResNet architectures with parameters and multiply-adds at their native input size')
    .option('--json', 'machine-readable output: [{"arch", "params", "flops", "input", ...}]')
    .option('--detectors', 'list the detectors that can be built or imported, with published COCO AP')
    .addOption(
      new Option(
        '--stride-placement <where>',
        "Bottleneck stride: v1 (paper's FLOPs) or v1.5 (torchvision's)",
      )
        .choices(['v1', 'v1.5'])
        .default('v1'),
    )
    .action((opts: { json?: boolean; detectors?: boolean; stridePlacement: StridePlacement }) => {
      if (opts.detectors) {
        printDetectors(opts.json);
        return;
      }
      const rows = describeArchs(opts.stridePlacement);
      if (opts.json) {
        printJson(rows);
        return;
      }
      console.log(`${'arch'.padEnd(11)} ${'params'.padStart(8)} ${'GFLOPs'.padStart(8)}  input  description`);
      for (const r of rows) {
        const params =
          r.params >= 1e6 ? `${(r.params / 1e6).toFixed(2)}M` : `${(r.params / 1e3).toFixed(1)}K`;
        const flops = r.flops >= 1e9 ? (r.flops / 1e9).toFixed(2) : (r.flops / 1e9).toFixed(3);
        console.log(
          `${r.arch.padEnd(11)} ${params.padStart(8)} ${flops.padStart(8)}  ${String(r.input).padStart(5)}  ${r.description}`,
        );
      }
      console.log(
        `FLOPs = multiply-adds of convs and fc for one image; Bottleneck stride placement ${opts.stridePlacement}.`,
      );
    });
}
