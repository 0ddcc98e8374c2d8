import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../core/backend.js';
import { createApp } from '../../server/app.js';
import { loadModels, loadModelsInWorker } from '../../server/models.js';
import { listen, postImage } from './helpers.js';
import { writeTinyClassifier, writeTinyDetector } from './tiny-models.js';

/** Models in a worker thread: same answers as on the main thread, and HTTP stays responsive. */

let dir: string;
let png: Buffer;
beforeAll(async () => {
  await initBackend('wasm');
  dir = mkdtempSync(join(tmpdir(), 'resdet-worker-'));
  // Big enough (short side 320) that one detection takes a while even on a fast machine.
  await writeTinyDetector(join(dir, 'det'), { minSize: 320, maxSize: 512, baseWidth: 16 });
  await writeTinyClassifier(join(dir, 'cls'));
  const w = 320;
  const h = 240;
  const px = Buffer.alloc(w * h * 3);
  for (let i = 0; i < px.length; i++) px[i] = (i * 31) % 251;
  png = await sharp(px, { raw: { width: w, height: h, channels: 3 } })
    .png()
    .toBuffer();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('inference worker thread', () => {
  it('answers exactly as the main thread does, and /healthz answers while a model runs', async () => {
    const dirs = { detector: join(dir, 'det'), classifier: join(dir, 'cls') };
    const inWorker = await loadModelsInWorker(dirs, 'wasm');
    const onMain = await loadModels(dirs);
    const worker = await listen(createApp({ models: inWorker, log: () => {} }));
    const main = await listen(createApp({ models: onMain, log: () => {} }));
    try {
      expect(inWorker.backend).toBe('wasm');
      expect(inWorker.detector.info).toEqual(onMain.detector.info);
      expect(inWorker.classifier?.info).toEqual(onMain.classifier?.info);
      for (const route of ['/v1/detect?max_detections=10', '/v1/classify?topk=3']) {
        const a = (await (await postImage(`${worker.url}${route}`, png)).json()) as Record<string, unknown>;
        const b = (await (await postImage(`${main.url}${route}`, png)).json()) as Record<string, unknown>;
        expect(a.detections ?? a.predictions).toEqual(b.detections ?? b.predictions);
      }

      // While one detection runs, poll /healthz back to back: on the worker thread every answer
      // is quick; on the main thread a poll waits for the model's synchronous kernels.
      const probe = async (url: string) => {
        let done = false;
        const t0 = performance.now();
        const detect = postImage(`${url}/v1/detect`, png).then((r) => {
          done = true;
          return r.status;
        });
        let worst = 0;
        let polls = 0;
        while (!done) {
          const s = performance.now();
          expect((await fetch(`${url}/healthz`)).status).toBe(200);
          worst = Math.max(worst, performance.now() - s);
          polls++;
        }
        expect(await detect).toBe(200);
        return { worst, polls, total: performance.now() - t0 };
      };
      // (Measured here: worker 115 polls, worst 84 ms in a 934 ms detection; main thread 4 polls,
      // worst 628 ms in 635 ms.)
      const w = await probe(worker.url);
      expect(w.polls).toBeGreaterThanOrEqual(5);
      expect(w.worst).toBeLessThan(w.total / 2);
    } finally {
      await worker.close();
      await main.close();
      await inWorker.dispose();
      onMain.dispose();
    }
  });

  it('a checkpoint that fails to load rejects with its message', async () => {
    await expect(loadModelsInWorker({ detector: join(dir, 'missing') }, 'wasm')).rejects.toThrow(/missing/);
  });
});
