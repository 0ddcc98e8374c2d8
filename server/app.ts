import { existsSync } from 'node:fs';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { currentBackend } from '../core/backend.js';
import { assetPath } from '../core/paths.js';
import { toCocoResults, toVocLines } from './formats.js';
import { evaluators as defaultEvaluators } from './evaluators.js';
import { errorBody, HttpError, toHttpError } from './http-error.js';
import { checkImage, decodeChecked, makeImageReader } from './image-input.js';
import { PROMETHEUS_CONTENT_TYPE, ServerMetrics } from './metrics.js';
import { buildOpenApi } from './openapi.js';
import { enumParam, floatParam, imageIdParam, intParam } from './params.js';
import type { Evaluators, Models, RgbImage } from './services.js';
import { WorkQueue } from './work-queue.js';

export const DEFAULTS = {
  maxBodyBytes: 20 * 1024 * 1024,
  /** ~40 megapixels: a 7,000 x 5,700 photo passes; a 50,000 x 50,000 bomb does not. */
  maxPixels: 40_000_000,
  concurrency: 1,
  queue: 16,
  timeoutMs: 30_000,
  scoreThreshold: 0.05,
  maxDetections: 100,
  topk: 5,
} as const;

/** Shared between the app and whatever runs it: set `draining` and /readyz answers 503. */
export class Lifecycle {
  draining = false;
}

export interface AppOptions {
  /** The models, or a promise of them: until it settles /readyz and the model routes answer 503. */
  models: Models | Promise<Models>;
  /** Behind /v1/evaluate/*: default the evaluation library; `false` turns the routes off (501). */
  evaluators?: Evaluators | false;
  /** Backend name reported by /v1/models; default the one `initBackend` chose in this process. */
  backend?: string;
  maxBodyBytes?: number;
  maxPixels?: number;
  /** Inference jobs running at once. */
  concurrency?: number;
  /** Inference jobs waiting; more are refused with 503 + Retry-After. */
  queue?: number;
  /** Per-request limit on queue wait + decode + inference (504 past it); 0 disables. */
  timeoutMs?: number;
  lifecycle?: Lifecycle;
  /** Folder of the web page; `false` serves no page. */
  publicDir?: string | false;
  /** Where unexpected errors are logged (never sent to clients). Default: stderr. */
  log?: (line: string) => void;
}

/** Handles on a created app's internals, for the code that runs it and for tests. */
export interface AppContext {
  queue: WorkQueue;
  metrics: ServerMetrics;
  lifecycle: Lifecycle;
  options: Required<Pick<AppOptions, 'maxBodyBytes' | 'maxPixels' | 'timeoutMs'>>;
}

const CONTEXT = Symbol('resdet.server.context');

export function appContext(app: Express): AppContext {
  const ctx = (app as unknown as Record<symbol, AppContext | undefined>)[CONTEXT];
  if (!ctx) throw new Error('not an app made by createApp');
  return ctx;
}

/** Paths of the API and the methods each accepts (also used for 405 answers). */
const ROUTES: Record<string, string[]> = {
  '/healthz': ['GET'],
  '/readyz': ['GET'],
  '/metrics': ['GET'],
  '/openapi.json': ['GET'],
  '/v1/models': ['GET'],
  '/v1/classify': ['POST'],
  '/v1/detect': ['POST'],
  '/v1/evaluate/coco': ['POST'],
  '/v1/evaluate/voc': ['POST'],
};

/**
 * The Express app: API, metrics, OpenAPI document and the web page. It does not listen; see
 * startServer in start.ts.
 */
export function createApp(options: AppOptions): Express {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULTS.maxBodyBytes;
  const maxPixels = options.maxPixels ?? DEFAULTS.maxPixels;
  const timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
  const lifecycle = options.lifecycle ?? new Lifecycle();
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const queue = new WorkQueue({
    concurrency: options.concurrency ?? DEFAULTS.concurrency,
    maxQueue: options.queue ?? DEFAULTS.queue,
  });
  const metrics = new ServerMetrics({ queueDepth: () => queue.depth, active: () => queue.active });
  const readImage = makeImageReader({ maxBodyBytes, maxPixels });
  const readJson = express.json({ limit: maxBodyBytes, type: () => true });

  let models: Models | undefined;
  let loadFailed = false;
  Promise.resolve(options.models).then(
    (m) => {
      models = m;
    },
    () => {
      // The runner reports the failure itself; here it only keeps /readyz at 503.
      loadFailed = true;
    },
  );

  const requireModels = (): Models => {
    if (models) return models;
    const why = loadFailed ? 'the models failed to load' : 'the models are still loading';
    throw new HttpError(503, 'not_ready', why, { headers: { 'Retry-After': '5' } });
  };

  const app = express();
  const ctx: AppContext = { queue, metrics, lifecycle, options: { maxBodyBytes, maxPixels, timeoutMs } };
  (app as unknown as Record<symbol, AppContext>)[CONTEXT] = ctx;
  app.disable('x-powered-by');
  app.set('query parser', 'simple');

  // Metrics for every request, labelled by route pattern (never the raw URL: unbounded labels).
  app.use((req: Request, res: Response, next: NextFunction) => {
    const start = performance.now();
    res.setHeader('X-Content-Type-Options', 'nosniff');
    // While draining, no connection is kept alive for another request.
    if (lifecycle.draining) res.setHeader('Connection', 'close');
    res.on('finish', () => {
      const route = req.route?.path ?? (res.locals.routeLabel as string | undefined) ?? 'unmatched';
      metrics.requests.inc({ method: req.method, route: String(route), status: String(res.statusCode) });
      metrics.requestSeconds.observe((performance.now() - start) / 1000, {
        method: req.method,
        route: String(route),
      });
    });
    next();
  });

  /** Runs decode + inference in a queue slot, with the timeout and client-abort handling. */
  const infer = <T>(res: Response, job: () => Promise<T>): Promise<T> => {
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    return queue.run(job, { timeoutMs, signal: abort.signal }).catch((err: unknown) => {
      if (err instanceof HttpError && err.code === 'queue_full') metrics.rejected.inc();
      if (err instanceof HttpError && err.code === 'timeout') metrics.timeouts.inc();
      throw err;
    });
  };

  const decodeTimed = async (bytes: Buffer) => {
    const checked = await checkImage(bytes, maxPixels);
    return async (): Promise<{ image: RgbImage; decodeMs: number }> => {
      const t0 = performance.now();
      const image = await decodeChecked(checked, maxPixels);
      return { image, decodeMs: performance.now() - t0 };
    };
  };

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/readyz', (_req, res) => {
    if (lifecycle.draining) {
      res.status(503).json({ ready: false, reason: 'shutting down' });
    } else if (!models) {
      res.status(503).json({ ready: false, reason: loadFailed ? 'models failed to load' : 'loading models' });
    } else if (models.healthy && !models.healthy()) {
      res.status(503).json({ ready: false, reason: 'the models stopped answering' });
    } else {
      res.json({ ready: true });
    }
  });

  app.get('/v1/models', (_req, res) => {
    const m = requireModels();
    res.json({
      backend: options.backend ?? currentBackend() ?? null,
      detector: { ...m.detector.info, categoryIds: m.detector.categoryIds ?? null },
      classifier: m.classifier ? m.classifier.info : null,
      limits: {
        maxBodyBytes,
        maxPixels,
        concurrency: queue.concurrency,
        queue: queue.maxQueue,
        timeoutMs,
      },
    });
  });

  app.post('/v1/classify', async (req, res) => {
    const m = requireModels();
    const classifier = m.classifier;
    if (!classifier)
      throw new HttpError(404, 'no_classifier', 'this server has no classifier loaded', {
        hint: 'start it with --classifier DIR',
      });
    const topk = intParam(
      req,
      'topk',
      Math.min(DEFAULTS.topk, classifier.info.classes.length),
      1,
      classifier.info.classes.length,
    );
    const decode = await decodeTimed(await readImage(req, res));
    const out = await infer(res, async () => {
      const { image, decodeMs } = await decode();
      const t0 = performance.now();
      const predictions = await classifier.classify(image, { topk });
      const inferenceMs = performance.now() - t0;
      metrics.inferenceSeconds.observe(inferenceMs / 1000, { model: 'classifier' });
      return { image, predictions, decodeMs, inferenceMs };
    });
    res.json({
      model: classifier.info.name,
      image: { width: out.image.width, height: out.image.height },
      topk,
      predictions: out.predictions,
      timings: { decodeMs: round1(out.decodeMs), inferenceMs: round1(out.inferenceMs) },
    });
  });

  app.post('/v1/detect', async (req, res) => {
    const m = requireModels();
    const detector = m.detector;
    const scoreThreshold = floatParam(req, 'score_threshold', DEFAULTS.scoreThreshold, 0, 1);
    const maxDetections = intParam(req, 'max_detections', DEFAULTS.maxDetections, 1, 1000);
    const format = enumParam(req, 'format', 'json', ['json', 'coco', 'voc'] as const);
    const imageId = imageIdParam(req);
    const decode = await decodeTimed(await readImage(req, res));
    const out = await infer(res, async () => {
      const { image, decodeMs } = await decode();
      const t0 = performance.now();
      const detections = await detector.detect(image, { scoreThreshold, maxDetections });
      const inferenceMs = performance.now() - t0;
      metrics.inferenceSeconds.observe(inferenceMs / 1000, { model: 'detector' });
      return { image, detections, decodeMs, inferenceMs };
    });
    if (format === 'coco') {
      const id = /^\d+$/.test(imageId) ? Number(imageId) : imageId;
      res.json(toCocoResults(out.detections, id, detector.categoryIds));
      return;
    }
    if (format === 'voc') {
      res.json({ image_id: imageId, lines: toVocLines(out.detections, imageId) });
      return;
    }
    res.json({
      model: detector.info.name,
      image: { width: out.image.width, height: out.image.height },
      detections: out.detections.map((d) => ({ ...d, box: d.box.map(round2) })),
      timings: { decodeMs: round1(out.decodeMs), inferenceMs: round1(out.inferenceMs) },
    });
  });

  const evaluate = (kind: 'coco' | 'voc') => async (req: Request, res: Response) => {
    const evaluators = options.evaluators ?? defaultEvaluators;
    if (!evaluators) throw new HttpError(501, 'no_evaluator', 'evaluation is not available on this server');
    const type = (req.headers['content-type'] ?? '').toLowerCase();
    if (!type.startsWith('application/json'))
      throw new HttpError(415, 'unsupported_media_type', 'send the evaluation input as application/json');
    await new Promise<void>((resolve, reject) =>
      readJson(req, res, (err?: unknown) => (err ? reject(err) : resolve())),
    );
    const body: unknown = req.body;
    if (body === null || typeof body !== 'object' || Array.isArray(body))
      throw new HttpError(400, 'bad_input', 'the body must be a JSON object');
    // Evaluation is CPU work like inference: it takes a slot so it cannot starve the models.
    const result = await infer(res, async () => evaluators[kind](body));
    res.json(result);
  };
  app.post('/v1/evaluate/coco', evaluate('coco'));
  app.post('/v1/evaluate/voc', evaluate('voc'));

  app.get('/metrics', (_req, res) => {
    res.type(PROMETHEUS_CONTENT_TYPE).send(metrics.registry.render());
  });

  let openapi: string | undefined;
  app.get('/openapi.json', (_req, res) => {
    openapi ??= JSON.stringify(buildOpenApi());
    res.type('application/json').send(openapi);
  });

  const publicDir = options.publicDir ?? assetPath('server/public');
  if (publicDir && existsSync(publicDir)) {
    const serveStatic = express.static(publicDir, { index: 'index.html', maxAge: 0, fallthrough: true });
    app.use((req, res, next) => {
      if (req.method === 'GET' || req.method === 'HEAD') res.locals.routeLabel = 'static';
      serveStatic(req, res, next);
    });
  }

  // A known path with the wrong method: 405 with Allow, not a misleading 404.
  app.use((req: Request, res: Response, next: NextFunction) => {
    const allowed = ROUTES[req.path];
    if (!allowed) return next();
    res.locals.routeLabel = req.path;
    res.setHeader('Allow', allowed.join(', '));
    next(
      new HttpError(
        405,
        'method_not_allowed',
        `${req.method} is not allowed on ${req.path}; use ${allowed.join(', ')}`,
      ),
    );
  });

  app.use((req: Request, res: Response, next: NextFunction) => {
    res.locals.routeLabel ??= 'unmatched';
    next(
      new HttpError(404, 'not_found', `no route ${req.method} ${req.path}`, { hint: 'see /openapi.json' }),
    );
  });

  // Every error becomes JSON without internals; unexpected ones are logged with their stack.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const http = toHttpError(err, maxBodyBytes);
    if (http.status >= 500 && http.code === 'internal')
      log(
        `resdet serve: ${req.method} ${req.path} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      );
    if (res.headersSent) {
      res.destroy();
      return;
    }
    for (const [k, v] of Object.entries(http.headers)) res.setHeader(k, v);
    // The client is gone (499): nothing to send, but the metrics still see a status.
    res.status(http.status).json(errorBody(http));
  });

  return app;
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}
