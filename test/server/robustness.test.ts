import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appContext, createApp, Lifecycle } from '../../server/app.js';
import type { Models } from '../../server/services.js';
import { type ErrorJson, fakeModels, listen, pngBomb, postImage, solidJpeg, solidPng } from './helpers.js';

const MAX_BODY = 64 * 1024;

async function errorOf(res: Response): Promise<ErrorJson['error']> {
  const text = await res.text();
  // No stack traces or file paths in any error response.
  expect(text).not.toMatch(/\bat .*\(|\.ts:\d+|node_modules|\/work\//);
  return (JSON.parse(text) as ErrorJson).error;
}

describe('bad input', () => {
  const calls = { detect: 0, classify: 0 };
  let url: string;
  let close: () => Promise<void>;
  beforeAll(async () => {
    const app = createApp({
      models: fakeModels({ calls }),
      maxBodyBytes: MAX_BODY,
      maxPixels: 4_000_000,
      log: () => {},
    });
    ({ url, close } = await listen(app));
  });
  afterAll(() => close());

  it('raw body over the limit -> 413', async () => {
    const res = await postImage(`${url}/v1/detect`, Buffer.alloc(MAX_BODY + 200 * 1024, 7));
    expect(res.status).toBe(413);
    const err = await errorOf(res);
    expect(err.code).toBe('payload_too_large');
    expect(err.message).toContain('64 KiB');
  });

  it('raw body over the limit sent chunked (no Content-Length) -> 413', async () => {
    const big = Buffer.alloc(MAX_BODY + 1024, 1);
    const body = new ReadableStream({
      start(controller) {
        for (let i = 0; i < big.length; i += 8192) controller.enqueue(big.subarray(i, i + 8192));
        controller.close();
      },
    });
    const res = await fetch(`${url}/v1/classify`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'image/jpeg' },
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
  });

  it('multipart file over the limit -> 413', async () => {
    const res = await postImage(`${url}/v1/detect`, Buffer.alloc(MAX_BODY + 10, 3), { multipart: true });
    expect(res.status).toBe(413);
    expect((await errorOf(res)).code).toBe('payload_too_large');
  });

  it('a Content-Type the server cannot read an image from -> 415', async () => {
    const res = await fetch(`${url}/v1/detect`, {
      method: 'POST',
      body: 'hello',
      headers: { 'content-type': 'text/plain' },
    });
    expect(res.status).toBe(415);
    const err = await errorOf(res);
    expect(err.code).toBe('unsupported_media_type');
    expect(err.hint).toContain('multipart/form-data');
  });

  it('bytes that are not an image -> 415', async () => {
    const res = await postImage(
      `${url}/v1/detect`,
      Buffer.from('this is not an image at all, just text'.repeat(10)),
    );
    expect(res.status).toBe(415);
    expect((await errorOf(res)).code).toBe('not_an_image');
  });

  it('an SVG (vector, untrusted) -> 415', async () => {
    const svg = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
    );
    const res = await postImage(`${url}/v1/detect`, svg, { type: 'image/svg+xml' });
    expect(res.status).toBe(415);
    expect((await errorOf(res)).message).toMatch(/svg/);
  });

  it('a truncated PNG -> 400 corrupt_image', async () => {
    const png = await solidPng(200, 200, [9, 99, 199]);
    const res = await postImage(`${url}/v1/detect`, png.subarray(0, 60));
    expect(res.status).toBe(400);
    expect((await errorOf(res)).code).toBe('corrupt_image');
  });

  it('a JPEG whose pixel data is garbage -> 400 corrupt_image', async () => {
    const jpeg = Buffer.from(await solidJpeg(64, 64, [200, 100, 50]));
    // Keep the headers, wreck the entropy-coded data and drop the end marker.
    const broken = Buffer.concat([jpeg.subarray(0, jpeg.length - 200), Buffer.alloc(50, 0xff)]);
    const res = await postImage(`${url}/v1/detect`, broken, { type: 'image/jpeg' });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).code).toBe('corrupt_image');
  });

  it('empty body -> 400; multipart without an "image" file -> 400; a second file field -> 400', async () => {
    const empty = await fetch(`${url}/v1/detect`, {
      method: 'POST',
      body: '',
      headers: { 'content-type': 'image/png' },
    });
    expect(empty.status).toBe(400);
    expect((await errorOf(empty)).code).toBe('missing_image');
    const form = new FormData();
    form.append('note', 'no file here');
    const noFile = await fetch(`${url}/v1/detect`, { method: 'POST', body: form });
    expect(noFile.status).toBe(400);
    expect((await errorOf(noFile)).message).toContain('"image"');
    const wrong = new FormData();
    wrong.append(
      'picture',
      new Blob([new Uint8Array(await solidPng(4, 4, [1, 1, 1]))], { type: 'image/png' }),
      'a.png',
    );
    const wrongField = await fetch(`${url}/v1/detect`, { method: 'POST', body: wrong });
    expect(wrongField.status).toBe(400);
    expect((await errorOf(wrongField)).code).toBe('bad_multipart');
  });

  it('a 50,000 x 50,000 PNG bomb -> 400 from its header, never decoded', async () => {
    const bomb = pngBomb(50_000, 50_000);
    expect(bomb.length).toBeLessThan(MAX_BODY * 8);
    const app = createApp({ models: fakeModels({ calls }), log: () => {} });
    const server = await listen(app);
    try {
      const before = { ...calls };
      const rssBefore = process.memoryUsage.rss();
      const t0 = performance.now();
      const res = await postImage(`${server.url}/v1/detect`, bomb);
      const ms = performance.now() - t0;
      expect(res.status).toBe(400);
      const err = await errorOf(res);
      expect(err.code).toBe('image_too_large');
      expect(err.message).toContain('50000 x 50000');
      // Decoding would take seconds and gigabytes; a header check takes milliseconds and nothing.
      expect(ms).toBeLessThan(5000);
      expect(process.memoryUsage.rss() - rssBefore).toBeLessThan(200 * 1024 * 1024);
      expect(calls).toEqual(before);
    } finally {
      await server.close();
    }
  });

  it('a server error is a bare JSON 500; the details go to the log only', async () => {
    const logged: string[] = [];
    const models = fakeModels();
    models.detector = {
      ...models.detector,
      detect: async () => {
        throw new Error('kernel exploded in /secret/path/model.ts');
      },
    };
    const server = await listen(createApp({ models, log: (l) => logged.push(l) }));
    try {
      const res = await postImage(`${server.url}/v1/detect`, await solidPng(8, 8, [0, 0, 0]));
      expect(res.status).toBe(500);
      const err = await errorOf(res);
      expect(err).toEqual({ status: 500, code: 'internal', message: 'internal server error' });
      expect(logged.join('\n')).toContain('kernel exploded');
    } finally {
      await server.close();
    }
  });
});

describe('load control', () => {
  it('queue full -> 503 with Retry-After; the admitted requests still succeed', async () => {
    // Each job holds its slot 1.5 s, so all five requests arrive while the first runs even when a
    // loaded machine spreads their arrival.
    const models = fakeModels({ delayMs: 1500 });
    const app = createApp({ models, concurrency: 1, queue: 1, log: () => {} });
    const server = await listen(app);
    try {
      const png = await solidPng(8, 8, [255, 0, 0]);
      const responses = await Promise.all(
        Array.from({ length: 5 }, () => postImage(`${server.url}/v1/detect`, png)),
      );
      const statuses = responses.map((r) => r.status).sort();
      expect(statuses).toEqual([200, 200, 503, 503, 503]);
      for (const r of responses) {
        if (r.status !== 503) continue;
        expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        expect((await errorOf(r)).code).toBe('queue_full');
      }
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      expect(metrics).toMatch(/^resdet_queue_rejections_total 3$/m);
      expect(metrics).toMatch(
        /resdet_http_requests_total\{method="POST",route="\/v1\/detect",status="503"\} 3/,
      );
    } finally {
      await server.close();
    }
  });

  it('a request past --timeout-ms -> 504, queue wait included; the queue keeps working', async () => {
    const models = fakeModels({ delayMs: (img) => (img.width === 9 ? 600 : 0) });
    const app = createApp({ models, concurrency: 1, queue: 4, timeoutMs: 250, log: () => {} });
    const server = await listen(app);
    try {
      const slow = await solidPng(9, 9, [1, 1, 1]);
      const fast = await solidPng(8, 8, [1, 1, 1]);
      // The slow job overruns; the fast one waits behind it for longer than the timeout too. It is
      // sent once the slow one holds the only slot: sent together, either could arrive first.
      const queue = appContext(app).queue;
      const pendingA = postImage(`${server.url}/v1/detect`, slow);
      while (queue.active === 0) await new Promise((r) => setTimeout(r, 5));
      const b = await postImage(`${server.url}/v1/detect`, fast);
      const a = await pendingA;
      expect(a.status).toBe(504);
      expect((await errorOf(a)).code).toBe('timeout');
      expect(b.status).toBe(504);
      await appContext(app).queue.idle();
      const again = await postImage(`${server.url}/v1/detect`, fast);
      expect(again.status).toBe(200);
      expect(await (await fetch(`${server.url}/metrics`)).text()).toMatch(
        /^resdet_request_timeouts_total 2$/m,
      );
    } finally {
      await server.close();
    }
  });

  it('while draining, /readyz answers 503 and every response closes its connection', async () => {
    const lifecycle = new Lifecycle();
    const server = await listen(createApp({ models: fakeModels(), lifecycle, log: () => {} }));
    try {
      const before = await fetch(`${server.url}/readyz`);
      expect(before.status).toBe(200);
      expect(before.headers.get('connection')).not.toBe('close');
      lifecycle.draining = true;
      const during = await fetch(`${server.url}/readyz`);
      expect(during.status).toBe(503);
      expect(await during.json()).toEqual({ ready: false, reason: 'shutting down' });
      expect(during.headers.get('connection')).toBe('close');
      // In-flight work still completes normally.
      expect((await postImage(`${server.url}/v1/detect`, await solidPng(8, 8, [1, 1, 1]))).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('models that report themselves unhealthy turn /readyz to 503', async () => {
    let healthy = true;
    const server = await listen(
      createApp({ models: { ...fakeModels(), healthy: () => healthy }, log: () => {} }),
    );
    try {
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      healthy = false;
      const r = await fetch(`${server.url}/readyz`);
      expect(r.status).toBe(503);
      expect(await r.json()).toEqual({ ready: false, reason: 'the models stopped answering' });
    } finally {
      await server.close();
    }
  });

  it('while the models load, /readyz and model routes answer 503; then they work', async () => {
    let resolve!: (m: Models) => void;
    const loading = new Promise<Models>((r) => {
      resolve = r;
    });
    const server = await listen(createApp({ models: loading, log: () => {} }));
    try {
      const r1 = await fetch(`${server.url}/readyz`);
      expect(r1.status).toBe(503);
      expect(await r1.json()).toEqual({ ready: false, reason: 'loading models' });
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      const d1 = await postImage(`${server.url}/v1/detect`, await solidPng(8, 8, [1, 1, 1]));
      expect(d1.status).toBe(503);
      expect(d1.headers.get('retry-after')).toBe('5');
      resolve(fakeModels());
      await loading;
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      expect((await postImage(`${server.url}/v1/detect`, await solidPng(8, 8, [1, 1, 1]))).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
