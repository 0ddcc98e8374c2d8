/**
 * SIGINT/SIGTERM for the long-running commands (pretrain, train-detector, demo): the first signal
 * aborts the run's AbortSignal, so it stops after the iteration in progress with a checkpoint;
 * a second quits at once with the shell's code for the signal. The library installs no handlers.
 */
export interface SignalAbort {
  signal: AbortSignal;
  /** The shell's exit code for the signal that aborted the run (130, 143), if one did. */
  exitCode(): number | undefined;
  dispose(): void;
}

const CODES = { SIGINT: 130, SIGTERM: 143 } as const;

export function abortOnSignals(): SignalAbort {
  const controller = new AbortController();
  let received: keyof typeof CODES | undefined;
  const on = (sig: keyof typeof CODES) => () => {
    if (received) process.exit(CODES[sig]);
    received = sig;
    process.stderr.write(
      `${sig}: saving a checkpoint after this iteration (send it again to quit at once)\n`,
    );
    controller.abort(sig);
  };
  const onInt = on('SIGINT');
  const onTerm = on('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return {
    signal: controller.signal,
    exitCode: () => (received ? CODES[received] : undefined),
    dispose: () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    },
  };
}
