/**
 * Detection-data throughput: synthetic set generation and the training loader.
 *   npx tsx bench/data.ts [--images N]
 * Prints wall time and this process's CPU time (user+system, main thread plus sharp's and the
 * workers' threads), so numbers taken on a busy machine can still be compared.
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DetectionLoader } from '../data/detection/loader.js';
import { openVoc } from '../data/detection/voc.js';
import { writeSynthSet } from '../data/synth/write-set.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const images = arg('--images', 200);

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const c = process.cpuUsage(c0);
  return { value, wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}

const root = join(tmpdir(), `resdet-bench-data-${process.pid}`);
try {
  for (const [kind, size] of [
    ['shapes', 256],
    ['shapes', 320],
    ['fashion', 320],
  ] as const) {
    const out = join(root, `${kind}-${size}`);
    const r = await timed(() => writeSynthSet({ kind, out, train: images, test: 0, size, seed: 1 }));
    console.log(
      `synth ${kind} ${size}px: ${(images / r.wall).toFixed(0)} img/s wall, ${((1000 * r.cpu) / images).toFixed(1)} ms CPU/img`,
    );
  }
  const big = join(root, 'shapes-500');
  await writeSynthSet({ kind: 'shapes', out: big, train: 64, test: 0, size: 500, seed: 2 });
  const ds = await openVoc(big, 'train');
  for (const workers of [0, 1, 2]) {
    const loader = new DetectionLoader(ds, { batchSize: 2, seed: 1, workers, sizeDivisible: 32 });
    await loader.batch(0); // start-up (worker threads, tsx) is not what we measure
    const r = await timed(async () => {
      for (let it = 1; it <= 24; it++) await loader.batch(it);
    });
    await loader.close();
    console.log(
      `loader 500px -> 600/1000, batch 2, workers ${workers}: ${(48 / r.wall).toFixed(1)} img/s wall, main-thread-process CPU ${((1000 * r.cpu) / 48).toFixed(1)} ms/img`,
    );
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
