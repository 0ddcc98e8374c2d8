import { describe, expect, it } from 'vitest';
import type { HttpError } from '../../server/http-error.js';
import { WorkQueue } from '../../server/work-queue.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('WorkQueue', () => {
  it('runs at most `concurrency` jobs at once, in arrival order', async () => {
    const q = new WorkQueue({ concurrency: 2, maxQueue: 10 });
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const jobs = Array.from({ length: 6 }, (_, i) =>
      q.run(async () => {
        order.push(i);
        running++;
        peak = Math.max(peak, running);
        await sleep(20);
        running--;
        return i * i;
      }),
    );
    expect(q.active).toBe(2);
    expect(q.depth).toBe(4);
    expect(await Promise.all(jobs)).toEqual([0, 1, 4, 9, 16, 25]);
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
    expect(q.depth).toBe(0);
    expect(q.active).toBe(0);
  });

  it('refuses with 503 and a Retry-After when running and waiting are full', async () => {
    const q = new WorkQueue({ concurrency: 1, maxQueue: 1 });
    const a = q.run(() => sleep(30));
    const b = q.run(() => sleep(30));
    const c = q.run(() => sleep(30));
    await expect(c).rejects.toMatchObject({ status: 503, code: 'queue_full' });
    const err = (await c.catch((e: unknown) => e)) as HttpError;
    expect(Number(err.headers['Retry-After'])).toBeGreaterThanOrEqual(1);
    await Promise.all([a, b]);
  });

  it('a timeout drops a waiting job without running it, and answers a running one at once', async () => {
    const q = new WorkQueue({ concurrency: 1, maxQueue: 5 });
    let secondRan = false;
    let firstFinished = false;
    const first = q.run(
      async () => {
        await sleep(1000);
        firstFinished = true;
      },
      { timeoutMs: 40 },
    );
    const second = q.run(
      async () => {
        secondRan = true;
      },
      { timeoutMs: 40 },
    );
    await expect(first).rejects.toMatchObject({ status: 504 });
    await expect(second).rejects.toMatchObject({ status: 504 });
    // Both answers came at their 40 ms deadline, long before the running job's 1 s of work ended
    // (asserted on the job's own state, not on a clock a loaded CI machine could stretch).
    expect(firstFinished).toBe(false);
    expect(q.depth).toBe(0);
    // The running job keeps its slot until it really ends.
    expect(q.active).toBe(1);
    await q.idle();
    expect(firstFinished).toBe(true);
    expect(secondRan).toBe(false);
  });

  it('an aborted client leaves the queue; job errors reach the caller and free the slot', async () => {
    const q = new WorkQueue({ concurrency: 1, maxQueue: 5 });
    const blocker = q.run(() => sleep(50));
    const ac = new AbortController();
    const waiting = q.run(async () => 'never', { signal: ac.signal });
    ac.abort();
    await expect(waiting).rejects.toMatchObject({ status: 499 });
    expect(q.depth).toBe(0);
    await blocker;
    await expect(q.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(
      q.run(() => {
        throw new Error('sync boom');
      }),
    ).rejects.toThrow('sync boom');
    expect(await q.run(async () => 'ok')).toBe('ok');
  });

  it('rejects bad settings', () => {
    expect(() => new WorkQueue({ concurrency: 0, maxQueue: 1 })).toThrow(/concurrency/);
    expect(() => new WorkQueue({ concurrency: 1, maxQueue: -1 })).toThrow(/queue/);
  });
});
