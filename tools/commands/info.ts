import * as tf from '@tensorflow/tfjs';
import type { Command } from 'commander';
import { BACKEND_ORDER, type BackendReport, initBackend, requestedBackend } from '../../core/backend.js';
import { resdetVersion } from '../../core/paths.js';
import { globalOptions, printJson } from '../common.js';

export interface InfoReport {
  version: string;
  tfjs: string;
  backend: string;
  backends: BackendReport;
  node: string;
  platform: string;
}

export function register(program: Command): void {
  program
    .command('info')
    .description(
      'show resdet and TF.js versions, the chosen backend and why each backend is or is not available',
    )
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const choice = requestedBackend(globalOptions(cmd).backend);
      const { backend, report } = await initBackend(choice, { probeAll: true });
      const info: InfoReport = {
        version: resdetVersion(),
        tfjs: tf.version.tfjs,
        backend,
        backends: report as BackendReport,
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
      };
      if (opts.json) {
        printJson(info);
        return;
      }
      console.log(`resdet ${info.version}  (TF.js ${info.tfjs}, Node ${info.node}, ${info.platform})`);
      console.log(`backend: ${backend}`);
      for (const name of BACKEND_ORDER) {
        const s = info.backends[name];
        console.log(`  ${s.available ? 'yes' : 'no '} ${name.padEnd(10)} ${s.reason}`);
      }
    });
}
