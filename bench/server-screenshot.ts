/**
 * Renders the web page screenshots for the README: with --detector, a real checkpoint on --image;
 * without, the browser test's stand-in models on a synthetic picture laid out so their
 * colour-based answers line up with what is drawn (docs/server-page-standin.png, slider at 0.25
 * so all three boxes show).
 *
 *   npx tsx bench/server-screenshot.ts [--out docs/server-page.png] [--detector DIR [--classifier DIR]]
 *     [--image FILE.jpg] [--threshold 0.25]
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { chromium } from 'playwright-core';
import sharp from 'sharp';
import { initBackend } from '../core/backend.js';
import { createApp } from '../server/app.js';
import { loadModels } from '../server/models.js';
import type { Models } from '../server/services.js';
import { fakeModels, listen } from '../test/server/helpers.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

async function scene(): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="420">
    <defs><linearGradient id="g" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0" stop-color="#f2b8a0"/><stop offset="1" stop-color="#c8553d"/></linearGradient></defs>
    <rect width="640" height="420" fill="url(#g)"/>
    <rect x="160" y="105" width="320" height="210" rx="24" fill="#3f9b5a"/>
    <circle cx="40" cy="26" r="22" fill="#2f5fd0"/>
  </svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 88 }).toBuffer();
}

const out = arg('--out', 'docs/server-page.png');
let models: Models;
if (arg('--detector', '')) {
  await initBackend('wasm');
  models = await loadModels({
    detector: arg('--detector', ''),
    classifier: arg('--classifier', '') || undefined,
  });
} else {
  models = fakeModels();
}
const server = await listen(
  createApp({ models, backend: arg('--detector', '') ? 'wasm' : 'stand-in', log: () => {} }),
);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
try {
  const page = await browser.newPage({ viewport: { width: 1000, height: 640 } });
  await page.goto(`${server.url}/`);
  await page.waitForFunction(() => document.body.dataset.state === 'ready');
  const imageFile = arg('--image', '');
  await page.setInputFiles(
    '#file',
    imageFile
      ? { name: basename(imageFile), mimeType: 'image/jpeg', buffer: readFileSync(imageFile) }
      : { name: 'scene.jpg', mimeType: 'image/jpeg', buffer: await scene() },
  );
  await page.waitForFunction(() => document.body.dataset.state === 'done');
  await page.locator('#threshold').fill(arg('--threshold', '0.25'));
  await page.screenshot({ path: out });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  await server.close();
}
