import type { Command } from 'commander';
import { DATASET_SOURCES, downloadDataset } from '../../data/download.js';
import { parseIntOption, printJson } from '../common.js';

interface DownloadFlags {
  to: string;
  baseUrl?: string;
  extract: boolean;
  retries?: number;
  json?: boolean;
}

/** `resdet data download NAME --to DIR` (registered on the `data` command). */
export function registerDownload(data: Command): void {
  data
    .command('download')
    .description(
      `download a dataset from its official source, verify its MD5 and unpack it (${Object.keys(DATASET_SOURCES).join(', ')}); an interrupted download continues where it stopped`,
    )
    .argument('<dataset>', Object.keys(DATASET_SOURCES).join(' | '))
    .requiredOption('--to <dir>', 'directory to download into')
    .option('--base-url <url>', 'fetch the files from this mirror directory instead of the official hosts')
    .option('--no-extract', 'keep the archives packed')
    .option('--retries <n>', 'retries after a dropped connection (default 3)', parseIntOption('--retries', 0))
    .option('--json', 'machine-readable output')
    .action(async (dataset: string, flags: DownloadFlags) => {
      const r = await downloadDataset(dataset, flags.to, {
        baseUrl: flags.baseUrl,
        extract: flags.extract,
        retries: flags.retries,
        silent: flags.json,
      });
      if (flags.json) {
        printJson(r);
        return;
      }
      for (const f of r.files)
        console.log(`${f.status.padEnd(10)} ${f.file} (${(f.bytes / 1e6).toFixed(1)} MB, MD5 ok)`);
      console.log(`use it with: ${r.usage}`);
    });
}
