import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './cli.js';

export interface SpawnedWorker {
  child: ChildProcess;
  /** Its stderr so far: one line per chunk taken, done, failed or lost. */
  log(): string;
  /** Resolves once it waits for chunks; rejects if it exits first. */
  ready: Promise<void>;
}

/** A `resdet queue worker` from the sources in its own process, as a deployment runs them. */
export function spawnQueueWorker(
  redis: string,
  name: string,
  opts: { flags?: string[]; env?: Record<string, string> } = {},
): SpawnedWorker {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(repoRoot, 'tools', 'bin.ts'),
      'queue',
      'worker',
      '--redis',
      redis,
      '--name',
      name,
      ...(opts.flags ?? []),
    ],
    { cwd: repoRoot, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.stderr?.on('data', (d) => {
      log += d;
      if (/waiting for chunks/.test(log)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`worker ${name} exited ${code}: ${log}`)));
  });
  ready.catch(() => {}); // a worker killed later must not surface as an unhandled rejection
  return { child, log: () => log, ready };
}
