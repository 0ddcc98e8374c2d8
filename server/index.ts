/**
 * The HTTP server: `createApp` (an Express app), `startServer`, the model services and formats.
 *
 * @module resdet/server
 */
export { appContext, type AppContext, type AppOptions, createApp, DEFAULTS, Lifecycle } from './app.js';
export { evaluators } from './evaluators.js';
export { type CocoResult, toCocoResults, toVocLines } from './formats.js';
export { type ErrorBody, HttpError } from './http-error.js';
export { loadClassifierService, loadDetectorService, loadModels, type ModelDirs } from './models.js';
export { buildOpenApi } from './openapi.js';
export type {
  Classification,
  ClassifierService,
  DetectorService,
  Evaluators,
  ModelInfo,
  Models,
} from './services.js';
export { type RunningServer, type StartOptions, startServer } from './start.js';
