/**
 * The backend (`initBackend`), errors, checkpoints, safetensors, progress and metrics, seeded RNG,
 * atomic writes, opt-in WebGPU kernels.
 *
 * @module resdet/core
 */
export { writeFileAtomic } from './atomic.js';
export {
  BACKEND_ORDER,
  type BackendChoice,
  type BackendName,
  type BackendReport,
  type BackendSelection,
  type BackendStatus,
  currentBackend,
  initBackend,
  type InitBackendOptions,
  requestedBackend,
} from './backend.js';
export {
  type Checkpoint,
  CHECKPOINT_FORMAT_VERSION,
  type CheckpointConfig,
  type CheckpointConfigInput,
  CONFIG_FILE,
  loadCheckpoint,
  OPTIMIZER_FILE,
  type Preprocessing,
  readCheckpointConfig,
  recoverCheckpoint,
  saveCheckpoint,
  WEIGHTS_FILE,
} from './checkpoint.js';
export { ResdetError, UsageError } from './errors.js';
export {
  bfloat16BitsToFloat32,
  float16BitsToFloat32,
  float32ToBfloat16Bits,
  float32ToFloat16Bits,
} from './half.js';
export { resdetVersion } from './paths.js';
export {
  type ChartGridSpec,
  type ChartSeries,
  type LineChartSpec,
  renderChartGrid,
  renderLineChart,
  writeChartGridPng,
  writeChartPng,
} from './plot.js';
export { formatDuration, Progress, type ProgressOptions } from './progress.js';
export { Rng } from './rng.js';
export {
  fromFloat32,
  readSafetensors,
  readSafetensorsHeader,
  type SafeDtype,
  type SafeTensor,
  type SafeTensorData,
  type SafeTensorInfo,
  SafetensorsFile,
  serializeSafetensors,
  toFloat32,
  writeSafetensors,
} from './safetensors.js';
export {
  activeWebgpuKernels,
  type KernelStats,
  registerWebgpuKernels,
  unregisterWebgpuKernels,
  WEBGPU_KERNEL_NAMES,
  type WebgpuKernelName,
  type WebgpuKernelOptions,
  webgpuKernelStats,
} from './webgpu/register.js';
export { DEFAULT_TILES, type TileConfig } from './webgpu/schedule.js';
export {
  type ComputedStep,
  type FitToTime,
  type LoopContext,
  runTrainLoop,
  type StopReason,
  type TrainLoopOptions,
  type TrainLoopResult,
  type TrainTask,
} from './train/loop.js';
export { METRICS_FILE, MetricsLog, type MetricsRecord, metricsPath, readMetrics } from './train/metrics.js';
export { readResumeState, type ResumeState } from './train/resume.js';
export {
  type DecayRule,
  describeSchedule,
  initialScheduleState,
  learningRate,
  type ScheduleSpec,
  type ScheduleState,
  type WarmupRule,
} from './train/schedule.js';
export {
  DETECTOR_WEIGHT_DECAY,
  type NamedParam,
  type ParamGroup,
  Sgd,
  type SgdOptions,
  uniformDecay,
  type WeightDecay,
} from './train/sgd.js';
export { IMAGENET_MEAN, IMAGENET_STD, type Normalization } from './normalization.js';
