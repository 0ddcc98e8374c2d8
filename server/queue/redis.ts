import type { ConnectionOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { ResdetError, UsageError } from '../../core/errors.js';

/**
 * BullMQ's connections: `maxRetriesPerRequest: null` because a worker's blocking commands must
 * wait out a Redis restart instead of failing the job.
 */
export function bullConnection(url: string): ConnectionOptions {
  return { url, maxRetriesPerRequest: null };
}

function checkUrl(url: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`--redis ${url}: not a URL`, 'write redis://HOST:PORT[/DB]');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    throw new UsageError(`--redis ${url}: not a redis:// URL`, 'write redis://HOST:PORT[/DB]');
}

/**
 * A plain client for the run records, connected now: an unreachable Redis is an error at once,
 * not a command that retries forever (BullMQ's own connections do retry, once one has worked).
 */
export async function connectRedis(url: string, timeoutMs = 5000): Promise<Redis> {
  checkUrl(url);
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  client.on('error', () => {}); // reported by connect() below
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    client.disconnect();
    throw new ResdetError(
      `cannot reach Redis at ${url}: ${(err as Error).message}`,
      'start redis-server (Debian: apt-get install redis-server) or pass the right --redis URL',
    );
  }
  return client;
}
