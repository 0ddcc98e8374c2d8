import type { Browser } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../server/app.js';
import { launchTestChromium, type TestBrowser } from '../helpers/chromium.js';
import { fakeModels, listen } from './helpers.js';

/** The web page end to end in headless Chromium: upload, boxes drawn, slider filtering, top-5. */

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let testBrowser: TestBrowser;
let browser: Browser;
let url: string;
let close: () => Promise<void>;

beforeAll(async () => {
  testBrowser = await launchTestChromium(CHROMIUM_ARGS);
  browser = testBrowser.browser;
  ({ url, close } = await listen(createApp({ models: fakeModels(), backend: 'cpu', log: () => {} })));
});
afterAll(async () => {
  await testBrowser?.close();
  await close?.();
});

/** A flat grey 320 x 240 picture: any coloured pixel on it was drawn by the page. */
async function greyPng(): Promise<Buffer> {
  return sharp({ create: { width: 320, height: 240, channels: 3, background: { r: 128, g: 128, b: 128 } } })
    .png()
    .toBuffer();
}

describe('web page', () => {
  it('uploads an image, draws boxes with labels, filters them with the slider, shows top classes', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 720 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // Only our own 127.0.0.1 server may be reached.
    await page.route('**/*', (route) => {
      const target = route.request().url();
      return target.startsWith(url) || target.startsWith('blob:')
        ? route.continue()
        : route.abort('blockedbyclient');
    });
    await page.goto(`${url}/`);
    await page.waitForFunction(() => document.body.dataset.state === 'ready');
    expect(await page.textContent('#models')).toContain('detector fake-detector');
    expect(await page.isVisible('#classes-panel')).toBe(true);

    await page.setInputFiles('#file', { name: 'grey.png', mimeType: 'image/png', buffer: await greyPng() });
    await page.waitForFunction(() => document.body.dataset.state !== 'busy');
    expect(await page.textContent('#status')).toMatch(/^3 detections in 320 × 240 px/);

    const count = async () =>
      page.$eval('#count', (el) => [
        Number((el as HTMLElement).dataset.visible),
        Number((el as HTMLElement).dataset.total),
      ]);
    // Fake detections score 0.95, 0.6, 0.3; the slider starts at 0.5.
    expect(await count()).toEqual([2, 3]);
    expect(await page.$$eval('#detections li', (lis) => lis.map((li) => li.textContent))).toEqual([
      expect.stringContaining('red 0.950'),
      expect.stringContaining('green 0.600'),
    ]);

    // The canvas holds the image at full size with boxes drawn: the centre box's left edge
    // (x = 80, y = 120) is coloured, the plain middle of the picture is still grey.
    const pixel = (x: number, y: number) =>
      page.$eval(
        '#canvas',
        (c, [px, py]) =>
          Array.from((c as HTMLCanvasElement).getContext('2d')!.getImageData(px, py, 1, 1).data),
        [x, y] as [number, number],
      );
    expect(
      await page.$eval('#canvas', (c) => [(c as HTMLCanvasElement).width, (c as HTMLCanvasElement).height]),
    ).toEqual([320, 240]);
    const edge = await pixel(80, 120);
    expect(edge.slice(0, 3)).not.toEqual([128, 128, 128]);
    expect((await pixel(160, 150)).slice(0, 3)).toEqual([128, 128, 128]);
    // The low-score corner box (0..40, 0..30) is hidden at 0.5 ...
    const cornerBefore = await pixel(20, 29);

    await page.locator('#threshold').fill('0.2');
    expect(await count()).toEqual([3, 3]);
    expect(await page.textContent('#threshold-value')).toBe('0.20');
    // ... and drawn once the slider goes below its score.
    expect(await pixel(20, 29)).not.toEqual(cornerBefore);

    await page.locator('#threshold').fill('0.9');
    expect(await count()).toEqual([1, 3]);
    // Only the whole-image box is left: the centre box's edge is grey again.
    expect((await pixel(80, 120)).slice(0, 3)).toEqual([128, 128, 128]);

    await page.locator('#threshold').fill('0.5');
    const classes = await page.$$eval('#classes li', (lis) => lis.map((li) => li.textContent ?? ''));
    // Grey: the three channels tie, so all three classes show at 33.3%.
    expect(classes).toHaveLength(3);
    for (const c of classes) expect(c).toContain('33.3%');

    // The page renders as a whole (kept in memory: tests write nothing into the work tree).
    const shot = await sharp(await page.screenshot()).metadata();
    expect([shot.format, shot.width, shot.height]).toEqual(['png', 1100, 720]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('accepts an image dropped on the drop zone', async () => {
    const page = await browser.newPage();
    await page.goto(`${url}/`);
    await page.waitForFunction(() => document.body.dataset.state === 'ready');
    const bytes = [...(await greyPng())];
    // Build a DataTransfer holding the file inside the page and drop it, as a drag from the desktop does.
    const transfer = await page.evaluateHandle((data) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(data)], 'dropped.png', { type: 'image/png' }));
      return dt;
    }, bytes);
    await page.dispatchEvent('#drop', 'dragover', { dataTransfer: transfer });
    expect(await page.$eval('#drop', (el) => el.classList.contains('over'))).toBe(true);
    await page.dispatchEvent('#drop', 'drop', { dataTransfer: transfer });
    await page.waitForFunction(
      () => document.body.dataset.state !== 'busy' && document.body.dataset.state !== 'ready',
    );
    expect(await page.textContent('#status')).toMatch(/^3 detections in 320 × 240 px/);
    expect(await page.$eval('#drop', (el) => el.classList.contains('over'))).toBe(false);
    await page.close();
  });

  it('a newer upload wins over an older one that answers later', async () => {
    // The 320-pixel-wide picture takes 800 ms to detect, the 100-pixel one no time.
    const slowApp = createApp({
      models: fakeModels({ delayMs: (img) => (img.width === 320 ? 800 : 0) }),
      concurrency: 4,
      log: () => {},
    });
    const slow = await listen(slowApp);
    try {
      const page = await browser.newPage();
      await page.goto(`${slow.url}/`);
      await page.waitForFunction(() => document.body.dataset.state === 'ready');
      await page.setInputFiles('#file', { name: 'slow.png', mimeType: 'image/png', buffer: await greyPng() });
      // The slow picture is loaded in the page and its detection is running when the next comes.
      await page.waitForTimeout(300);
      const small = await sharp({ create: { width: 100, height: 50, channels: 3, background: '#2040c0' } })
        .png()
        .toBuffer();
      await page.setInputFiles('#file', { name: 'fast.png', mimeType: 'image/png', buffer: small });
      await page.waitForFunction(() => document.body.dataset.state === 'done');
      // Let the slow answer arrive too; it must not replace the newer one.
      await page.waitForTimeout(1200);
      expect(await page.textContent('#status')).toMatch(/in 100 × 50 px/);
      expect(await page.$eval('#canvas', (c) => (c as HTMLCanvasElement).width)).toBe(100);
      await page.close();
    } finally {
      await slow.close();
    }
  });

  it('shows the server error message for a file that is not an image', async () => {
    const page = await browser.newPage();
    await page.goto(`${url}/`);
    await page.waitForFunction(() => document.body.dataset.state === 'ready');
    await page.setInputFiles('#file', {
      name: 'notes.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('hello there'),
    });
    await page.waitForFunction(() => document.body.dataset.state === 'error');
    expect(await page.textContent('#status')).toMatch(/Failed: .*not an image|cannot display/);
    await page.close();
  });
});
