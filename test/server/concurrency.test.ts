import { describe, expect, it } from 'vitest';
import { createApp } from '../../server/app.js';
import { COLOURS, fakeModels, listen, postImage, solidPng } from './helpers.js';

describe('concurrent requests', () => {
  it('many parallel requests with different images each get their own answer', async () => {
    const calls = { detect: 0, classify: 0 };
    // Random-ish delays make jobs finish out of order, so a mix-up would show.
    const models = fakeModels({ calls, delayMs: (img) => (img.width * 7919) % 37 });
    const app = createApp({ models, concurrency: 4, queue: 128, log: () => {} });
    const server = await listen(app);
    try {
      const cases = await Promise.all(
        Array.from({ length: 48 }, async (_, i) => {
          const colour = i % 3;
          const rgb: [number, number, number] = [0, 0, 0];
          rgb[colour] = 200;
          const width = 16 + i;
          const height = 10 + ((i * 5) % 23);
          return { i, colour, width, height, png: await solidPng(width, height, rgb) };
        }),
      );
      const results = await Promise.all(
        cases.map(async (c) => {
          const route = c.i % 2 === 0 ? 'detect' : 'classify';
          const res = await postImage(`${server.url}/v1/${route}?topk=1`, c.png, { multipart: c.i % 4 < 2 });
          return { c, route, status: res.status, body: (await res.json()) as Record<string, unknown> };
        }),
      );
      for (const { c, route, status, body } of results) {
        expect(status, `request ${c.i}`).toBe(200);
        expect(body.image, `request ${c.i}`).toEqual({ width: c.width, height: c.height });
        if (route === 'detect') {
          const dets = body.detections as Array<{ box: number[]; label: string }>;
          expect(dets[0], `request ${c.i}`).toEqual(
            expect.objectContaining({ box: [0, 0, c.width, c.height], label: COLOURS[c.colour] }),
          );
        } else {
          const preds = body.predictions as Array<{ label: string }>;
          expect(
            preds.map((p) => p.label),
            `request ${c.i}`,
          ).toEqual([COLOURS[c.colour]]);
        }
      }
      // One shared model instance served them all.
      expect(calls).toEqual({ detect: 24, classify: 24 });
    } finally {
      await server.close();
    }
  });
});
