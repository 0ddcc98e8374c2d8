import { type SpawnSyncReturns, spawnSync } from 'node:child_process';

/**
 * How many times a Dawn child is started before its failure counts. dawn.node now and then aborts
 * (std::system_error, futex assertions) or hangs in this sandbox, mostly when the machine is
 * loaded; the CI run of session 2 lost two starts in a row, so one retry was not enough.
 */
export const DAWN_ATTEMPTS = 4;

export interface DawnChildOptions {
  input?: string;
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
  /** True when stdout already holds the full answer, so a crash while exiting does not matter. */
  answered?: (stdout: string) => boolean;
}

/**
 * Runs `node --import tsx ...args` for code that loads dawn.node (it aborts inside vitest's
 * workers, so it always gets its own process). A run killed by a signal or the timeout before it
 * answered is started again; an exit code is the child's own verdict and is returned at once,
 * so retrying cannot hide a real failure.
 */
export function spawnDawnChild(
  args: string[],
  options: DawnChildOptions,
): SpawnSyncReturns<string> & {
  attempts: string[];
} {
  const attempts: string[] = [];
  let run: SpawnSyncReturns<string> | undefined;
  for (let attempt = 0; attempt < DAWN_ATTEMPTS; attempt++) {
    run = spawnSync(process.execPath, ['--import', 'tsx', ...args], {
      input: options.input,
      encoding: 'utf8',
      timeout: options.timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
      env: options.env ?? process.env,
    });
    if (run.status !== null) break;
    if (options.answered?.(run.stdout)) break;
    attempts.push(`signal ${run.signal}: ${run.stderr.slice(-600).trim()}`);
    // A moment's pause: the aborts come in bursts while other test processes start up.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500 * (attempt + 1));
  }
  return Object.assign(run as SpawnSyncReturns<string>, { attempts });
}
