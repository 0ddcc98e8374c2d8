import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';
import { postImage, solidPng } from './helpers.js';

interface Child {
  proc: ChildProcess;
  url: string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

async function spawnServer(env: Record<string, string>): Promise<Child> {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', join(repoRoot, 'test', 'server', 'serve-fake.ts')],
    {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  proc.stderr?.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal, at: performance.now() })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 60_000);
    proc.stdout?.on('data', (d) => {
      out += d;
      const m = out.match(/listening (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.on('exit', () => reject(new Error(`server exited early: ${stderr}`)));
  });
  return { proc, url, stderr: () => stderr, exited };
}

describe('SIGTERM', () => {
  it('drains in-flight requests, refuses new connections, then exits 0', async () => {
    const child = await spawnServer({ FAKE_DELAY_MS: '3000' });
    try {
      const png = await solidPng(32, 24, [0, 0, 250]);
      expect((await fetch(`${child.url}/readyz`)).status).toBe(200);
      const t0 = performance.now();
      const inFlight = postImage(`${child.url}/v1/detect`, png).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as { detections: Array<{ label: string; box: number[] }> },
        at: performance.now(),
      }));
      // Let the request reach the model, then ask the server to stop.
      // (1 s of margin: on a loaded 2-core CI machine the request can take a while to arrive.)
      await new Promise((r) => setTimeout(r, 1000));
      child.proc.kill('SIGTERM');
      // The listening socket closes while the request is still in flight: new connections are
      // refused (polled for up to 1.5 s, as a loaded machine may take a moment to act on the signal).
      let refused = false;
      for (const end = performance.now() + 1500; !refused && performance.now() < end; ) {
        refused = await fetch(`${child.url}/healthz`).then(
          () => false,
          () => true,
        );
        if (!refused) await new Promise((r) => setTimeout(r, 50));
      }
      expect(refused).toBe(true);
      const done = await inFlight;
      expect(done.status).toBe(200);
      expect(done.body.detections[0]).toMatchObject({ label: 'blue', box: [0, 0, 32, 24] });
      expect(done.at - t0).toBeGreaterThanOrEqual(2900);
      const exit = await child.exited;
      expect(exit.code).toBe(0);
      // It waited for the response before exiting.
      expect(exit.at).toBeGreaterThanOrEqual(done.at - 50);
      expect(child.stderr()).toContain('draining in-flight requests');
    } finally {
      child.proc.kill('SIGKILL');
    }
  });

  it('an idle server exits promptly', async () => {
    const child = await spawnServer({});
    try {
      // An idle keep-alive connection must not hold the exit back.
      expect((await fetch(`${child.url}/healthz`)).status).toBe(200);
      const t0 = performance.now();
      child.proc.kill('SIGTERM');
      const exit = await child.exited;
      expect(exit.code).toBe(0);
      expect(exit.at - t0).toBeLessThan(3000);
    } finally {
      child.proc.kill('SIGKILL');
    }
  });
});
