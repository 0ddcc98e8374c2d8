/**
 * The jobs test/jobs/run-jobs.ts runs end to end (issue 18: every path a job runs must read
 * tensors asynchronously, so that it works on WebGPU): each is a real `resdet` command.
 */
export const JOBS = [
  'data synth',
  'init (checkpoint save)',
  'train-detector',
  'train-detector --resume',
  'detect',
  'evaluate-detector',
  'pretrain',
  'pretrain --resume',
  'evaluate',
  'classify',
  'export (checkpoint load + save)',
  'serve',
] as const;

/** One line of WORKDIR/jobs.jsonl. */
export interface JobResult {
  job: string;
  code: number;
  seconds: number;
  /** The end of a failed job's stderr. */
  stderr?: string;
}
