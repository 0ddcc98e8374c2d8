import { describe, expect, it } from 'vitest';
import { ResdetError } from '../../core/errors.js';
import { WorkerPool } from '../../data/workers/pool.js';

const TASK = new URL('./square-task.ts', import.meta.url).href;

describe('WorkerPool (generic task modules)', () => {
  it('runs any task module in worker threads, with args, transfers and errors', async () => {
    const pool = new WorkerPool<
      { offset: number },
      { x: number; fail?: boolean },
      { y: Float64Array; thread: number }
    >({
      module: TASK,
      args: { offset: 1 },
      workers: 2,
    });
    try {
      const results = await Promise.all([1, 2, 3, 4, 5, 6].map((x) => pool.run({ x })));
      expect(results.map((r) => r.value.y[0])).toEqual([2, 5, 10, 17, 26, 37]);
      expect(results.every((r) => r.threadId !== 0 && r.threadId === r.value.thread)).toBe(true);
      expect(new Set(results.map((r) => r.threadId)).size).toBe(2);
      const err = await pool.run({ x: 7, fail: true }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ResdetError);
      expect((err as ResdetError).message).toBe('job 7 failed');
      expect((err as ResdetError).hint).toBe('as asked');
      // The pool survives a failed job.
      expect((await pool.run({ x: 8 })).value.y[0]).toBe(65);
    } finally {
      await pool.close();
    }
  });

  it('runs on the calling thread with 0 workers', async () => {
    const pool = new WorkerPool<{ offset: number }, { x: number }, { y: Float64Array; thread: number }>({
      module: TASK,
      args: { offset: 0 },
      workers: 0,
    });
    const r = await pool.run({ x: 3 });
    expect([r.value.y[0], r.threadId]).toEqual([9, 0]);
    await pool.close();
  });
});
