import type { Express } from 'express';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../server/app.js';
import type { Evaluators } from '../../server/services.js';
import { type ErrorJson, fakeModels, listen, postImage, solidJpeg, solidPng } from './helpers.js';

interface DetectJson {
  model: string;
  image: { width: number; height: number };
  detections: Array<{ box: number[]; label: string; labelIndex: number; score: number }>;
  timings: { decodeMs: number; inferenceMs: number };
}

const evalCalls: Array<{ kind: string; body: unknown }> = [];
const evaluators: Evaluators = {
  coco: (body) => {
    evalCalls.push({ kind: 'coco', body });
    return { AP: 0.5, seen: Object.keys(body as object).sort() };
  },
  voc: async (body) => {
    evalCalls.push({ kind: 'voc', body });
    return { mAP: 0.25 };
  },
};

let url: string;
let close: () => Promise<void>;
let app: Express;

beforeAll(async () => {
  app = createApp({ models: fakeModels(), evaluators, backend: 'cpu', log: () => {} });
  ({ url, close } = await listen(app));
});
afterAll(() => close());

describe('health and metadata', () => {
  it('GET /healthz and /readyz answer ok once models are loaded', async () => {
    const h = await fetch(`${url}/healthz`);
    expect(h.status).toBe(200);
    expect(await h.json()).toEqual({ status: 'ok' });
    const r = await fetch(`${url}/readyz`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ ready: true });
  });

  it('GET /v1/models lists both models, the backend and the limits', async () => {
    const res = await fetch(`${url}/v1/models`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, Record<string, unknown>>;
    expect(body.backend).toBe('cpu');
    expect(body.detector.name).toBe('fake-detector');
    expect(body.detector.classes).toEqual(['red', 'green', 'blue']);
    expect(body.detector.categoryIds).toEqual([3, 7, 44]);
    expect(body.classifier.arch).toBe('fake');
    expect((body.detector.preprocessing as Record<string, unknown>).minSize).toBe(64);
    expect(body.limits.maxBodyBytes).toBe(20 * 1024 * 1024);
  });

  it('GET /openapi.json documents every API route', async () => {
    const res = await fetch(`${url}/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toMatch(/^3\./);
    const expected: Array<[string, string]> = [
      ['/healthz', 'get'],
      ['/readyz', 'get'],
      ['/v1/models', 'get'],
      ['/v1/classify', 'post'],
      ['/v1/detect', 'post'],
      ['/v1/evaluate/coco', 'post'],
      ['/v1/evaluate/voc', 'post'],
      ['/metrics', 'get'],
      ['/openapi.json', 'get'],
    ];
    expect(Object.keys(doc.paths).sort()).toEqual(expected.map(([p]) => p).sort());
    for (const [path, method] of expected) expect(doc.paths[path][method], `${method} ${path}`).toBeDefined();
    // The app's own routing table and the document agree, both ways.
    const stack = (
      app as unknown as { router: { stack: Array<{ route?: { path: string; methods: object } }> } }
    ).router.stack;
    const routed = stack
      .filter((l) => l.route)
      .flatMap((l) => Object.keys(l.route!.methods).map((m) => `${m} ${l.route!.path}`))
      .sort();
    const documented = Object.entries(doc.paths)
      .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`))
      .sort();
    expect(routed).toEqual(documented);
    // Every $ref points at a schema that exists.
    const text = JSON.stringify(doc);
    const schemas = (doc as unknown as { components: { schemas: Record<string, unknown> } }).components
      .schemas;
    for (const m of text.matchAll(/"#\/components\/schemas\/(\w+)"/g))
      expect(schemas[m[1]], m[1]).toBeDefined();
  });

  it('GET / serves the web page and its script', async () => {
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const html = await page.text();
    expect(html).toContain('<canvas');
    const js = await fetch(`${url}/app.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
  });
});

describe('POST /v1/detect', () => {
  it('answers boxes in original-image pixels for a raw PNG body', async () => {
    const png = await solidPng(64, 48, [250, 10, 10]);
    const sent = performance.now();
    const res = await postImage(`${url}/v1/detect`, png);
    const roundTripMs = performance.now() - sent;
    expect(res.status).toBe(200);
    const body = (await res.json()) as DetectJson;
    expect(body.image).toEqual({ width: 64, height: 48 });
    expect(body.detections[0]).toEqual({ box: [0, 0, 64, 48], label: 'red', labelIndex: 0, score: 0.95 });
    expect(body.detections).toHaveLength(3);
    // A time measured inside the request: within what the whole round trip took.
    expect(body.timings.inferenceMs).toBeGreaterThanOrEqual(0);
    expect(body.timings.inferenceMs).toBeLessThanOrEqual(roundTripMs);
  });

  it('reads multipart field "image" and honours score_threshold and max_detections', async () => {
    const jpeg = await solidJpeg(40, 40, [10, 10, 240]);
    const res = await postImage(`${url}/v1/detect?score_threshold=0.5`, jpeg, {
      multipart: true,
      type: 'image/jpeg',
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as DetectJson;
    expect(body.detections.map((d) => d.score)).toEqual([0.95, 0.6]);
    expect(body.detections[0].label).toBe('blue');
    const one = await postImage(`${url}/v1/detect?max_detections=1`, jpeg, { type: 'image/jpeg' });
    expect(((await one.json()) as DetectJson).detections).toHaveLength(1);
  });

  it('applies EXIF orientation (boxes match the image as displayed) and reads WebP', async () => {
    // Stored 40 x 20 with "rotate 90 degrees" in EXIF: shown, and detected, as 20 x 40.
    const rotated = await sharp({ create: { width: 40, height: 20, channels: 3, background: '#c01010' } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const res = await postImage(`${url}/v1/detect`, rotated, { type: 'image/jpeg' });
    const body = (await res.json()) as DetectJson;
    expect(body.image).toEqual({ width: 20, height: 40 });
    expect(body.detections[0].box).toEqual([0, 0, 20, 40]);
    const webp = await sharp({ create: { width: 12, height: 9, channels: 3, background: '#10c010' } })
      .webp()
      .toBuffer();
    const w = await postImage(`${url}/v1/detect`, webp, { multipart: true, type: 'image/webp' });
    expect(w.status).toBe(200);
    expect(((await w.json()) as DetectJson).detections[0].label).toBe('green');
  });

  it('format=coco gives COCO result records with the dataset category ids', async () => {
    const res = await postImage(
      `${url}/v1/detect?format=coco&image_id=139`,
      await solidPng(80, 40, [0, 200, 0]),
    );
    expect(res.status).toBe(200);
    const records = (await res.json()) as Array<Record<string, unknown>>;
    expect(records[0]).toEqual({ image_id: 139, category_id: 7, bbox: [0, 0, 80, 40], score: 0.95 });
    expect(records[1]).toEqual({ image_id: 139, category_id: 7, bbox: [20, 10, 40, 20], score: 0.6 });
    expect(records[2].category_id).toBe(44);
  });

  it('format=voc gives devkit lines per class, 1-based', async () => {
    const res = await postImage(
      `${url}/v1/detect?format=voc&image_id=000029`,
      await solidPng(80, 40, [200, 0, 0]),
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as { image_id: string; lines: Record<string, string[]> };
    expect(body.image_id).toBe('000029');
    expect(body.lines.red).toEqual(['000029 0.950000 1.0 1.0 80.0 40.0']);
    expect(body.lines.green).toEqual(['000029 0.600000 21.0 11.0 60.0 30.0']);
    expect(Object.keys(body.lines).sort()).toEqual(['blue', 'green', 'red']);
  });

  it.each([
    ['score_threshold=2', 'score_threshold'],
    ['score_threshold=abc', 'score_threshold'],
    ['max_detections=0', 'max_detections'],
    ['max_detections=1.5', 'max_detections'],
    ['format=xml', 'format'],
    ['image_id=../etc', 'image_id'],
  ])('bad parameter %s -> 400 naming it', async (qs, name) => {
    const res = await postImage(`${url}/v1/detect?${qs}`, await solidPng(8, 8, [1, 2, 3]));
    expect(res.status).toBe(400);
    const body = (await res.json()) as ErrorJson;
    expect(body.error.code).toBe('bad_parameter');
    expect(body.error.message).toContain(name);
  });
});

describe('POST /v1/classify', () => {
  it('answers the top-k classes for a raw body and a multipart upload', async () => {
    const png = await solidPng(16, 16, [20, 200, 100]);
    const res = await postImage(`${url}/v1/classify?topk=2`, png);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { topk: number; predictions: Array<{ label: string; prob: number }> };
    expect(body.topk).toBe(2);
    expect(body.predictions.map((p) => p.label)).toEqual(['green', 'blue']);
    const multi = await postImage(`${url}/v1/classify`, png, { multipart: true });
    const all = (await multi.json()) as { topk: number; predictions: unknown[] };
    // Default top-5, capped at the 3 classes this model has.
    expect(all.topk).toBe(3);
    expect(all.predictions).toHaveLength(3);
  });

  it('topk out of range -> 400', async () => {
    const res = await postImage(`${url}/v1/classify?topk=4`, await solidPng(8, 8, [1, 2, 3]));
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorJson).error.message).toMatch(/topk: expected an integer from 1 to 3/);
  });

  it('without a classifier -> 404 with a hint', async () => {
    const models = fakeModels();
    const app = createApp({ models: { detector: models.detector }, log: () => {} });
    const server = await listen(app);
    try {
      const res = await postImage(`${server.url}/v1/classify`, await solidPng(8, 8, [1, 2, 3]));
      expect(res.status).toBe(404);
      const body = (await res.json()) as ErrorJson;
      expect(body.error.code).toBe('no_classifier');
      expect(body.error.hint).toContain('--classifier');
      const m = (await (await fetch(`${server.url}/v1/models`)).json()) as { classifier: unknown };
      expect(m.classifier).toBeNull();
    } finally {
      await server.close();
    }
  });
});

describe('POST /v1/evaluate/*', () => {
  it('passes the JSON body to the evaluator and answers its numbers', async () => {
    const res = await fetch(`${url}/v1/evaluate/coco`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ gt: { images: [] }, dt: [] }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ AP: 0.5, seen: ['dt', 'gt'] });
    const voc = await fetch(`${url}/v1/evaluate/voc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ annotations: {}, detections: [] }),
    });
    expect(await voc.json()).toEqual({ mAP: 0.25 });
    expect(evalCalls.map((c) => c.kind)).toEqual(['coco', 'voc']);
  });

  it('malformed JSON -> 400, non-JSON -> 415, not an object -> 400', async () => {
    const bad = await fetch(`${url}/v1/evaluate/coco`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"gt": [',
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as ErrorJson).error.code).toBe('bad_json');
    const text = await fetch(`${url}/v1/evaluate/voc`, {
      method: 'POST',
      body: 'hello',
      headers: { 'content-type': 'text/plain' },
    });
    expect(text.status).toBe(415);
    const arr = await fetch(`${url}/v1/evaluate/voc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '[1,2]',
    });
    expect(arr.status).toBe(400);
  });
});

describe('routing and errors', () => {
  it('unknown route -> JSON 404; wrong method -> 405 with Allow', async () => {
    const nf = await fetch(`${url}/v2/nothing`);
    expect(nf.status).toBe(404);
    expect(((await nf.json()) as ErrorJson).error.code).toBe('not_found');
    const wm = await fetch(`${url}/v1/detect`);
    expect(wm.status).toBe(405);
    expect(wm.headers.get('allow')).toBe('POST');
  });

  it('GET /metrics counts requests by route and status and exposes histograms and queue depth', async () => {
    await fetch(`${url}/v1/detect`); // a 405
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const detectOk = text.match(
      /resdet_http_requests_total\{method="POST",route="\/v1\/detect",status="200"\} (\d+)/,
    );
    expect(Number(detectOk?.[1])).toBeGreaterThanOrEqual(3);
    expect(text).toMatch(/resdet_http_requests_total\{method="POST",route="\/v1\/detect",status="400"\} \d+/);
    expect(text).toMatch(/resdet_http_requests_total\{method="GET",route="\/v1\/detect",status="405"\} \d+/);
    expect(text).toMatch(
      /resdet_http_request_duration_seconds_bucket\{method="POST",route="\/v1\/detect",le="\+Inf"\} \d+/,
    );
    expect(text).toMatch(/resdet_inference_duration_seconds_count\{model="detector"\} \d+/);
    expect(text).toMatch(/resdet_inference_duration_seconds_count\{model="classifier"\} \d+/);
    expect(text).toMatch(/^resdet_queue_depth 0$/m);
    // Raw URLs never become labels.
    expect(text).not.toContain('/v2/nothing');
  });
});
