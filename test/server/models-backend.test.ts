import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../core/backend.js';
import { createApp } from '../../server/app.js';
import { fakeModels, listen } from './helpers.js';

// The README's "From code" example calls initBackend and then createApp/startServer without a
// `backend` option: /v1/models should still say which backend runs the models.
let url: string;
let close: () => Promise<void>;

beforeAll(async () => {
  await initBackend('cpu');
  ({ url, close } = await listen(createApp({ models: fakeModels(), log: () => {} })));
});
afterAll(() => close());

describe('GET /v1/models without a backend option', () => {
  it('reports the backend initBackend chose in this process', async () => {
    const res = await fetch(`${url}/v1/models`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { backend: string | null };
    expect(body.backend).toBe('cpu');
  });
});
