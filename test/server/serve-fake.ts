/**
 * A server with fake models in its own process, for the shutdown test: detection takes
 * FAKE_DELAY_MS; prints its URL on stdout, exits 0 once drained after SIGTERM.
 */
import { startServer } from '../../server/start.js';
import { fakeModels } from './helpers.js';

const running = await startServer({
  models: fakeModels({ delayMs: Number(process.env.FAKE_DELAY_MS ?? 1000) }),
  port: 0,
  host: '127.0.0.1',
  drainTimeoutMs: Number(process.env.DRAIN_TIMEOUT_MS ?? 10_000),
});
process.stdout.write(`listening ${running.url}\n`);
await running.closed;
process.exit(0);
