import { resdetVersion } from '../core/paths.js';

/**
 * The OpenAPI 3 description of the server, served at /openapi.json. Kept as code beside the app so
 * the test that walks the app's routes and this document's paths catches either drifting.
 */

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });

const errorResponse = (description: string, headers?: Schema): Schema => ({
  description,
  ...(headers ? { headers } : {}),
  content: { 'application/json': { schema: ref('Error') } },
});

const retryAfter = {
  'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer' } },
};

const imageBody: Schema = {
  required: true,
  description:
    'The image (JPEG, PNG, WebP, GIF, TIFF or AVIF): a multipart form with the file in field `image`, or the raw bytes with an image Content-Type.',
  content: {
    'multipart/form-data': {
      schema: {
        type: 'object',
        required: ['image'],
        properties: { image: { type: 'string', format: 'binary' } },
      },
    },
    'image/*': { schema: { type: 'string', format: 'binary' } },
    'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
  },
};

const imageErrors: Record<string, Schema> = {
  '400': errorResponse(
    'Bad parameter, corrupt image, or an image over the pixel limit (refused from its header, never decoded).',
  ),
  '413': errorResponse('Body over the size limit (--max-body).'),
  '415': errorResponse('Not an image, or a Content-Type the server cannot read an image from.'),
  '503': errorResponse('Queue full, models still loading or server shutting down.', retryAfter),
  '504': errorResponse('Not finished within the per-request timeout (--timeout-ms).'),
};

const query = (name: string, description: string, schema: Schema): Schema => ({
  name,
  in: 'query',
  required: false,
  description,
  schema,
});

const evaluation = (kind: 'coco' | 'voc'): Schema => ({
  post: {
    operationId: `evaluate${kind === 'coco' ? 'Coco' : 'Voc'}`,
    summary:
      kind === 'coco'
        ? 'COCO bbox evaluation (pycocotools protocol): 12 summary numbers and per-category AP.'
        : 'PASCAL VOC evaluation (devkit protocol): per-class AP and mAP, 11-point (voc07) or area metric.',
    requestBody: {
      required: true,
      content: {
        'application/json': { schema: ref(kind === 'coco' ? 'CocoEvalRequest' : 'VocEvalRequest') },
      },
    },
    responses: {
      '200': {
        description: 'The evaluation numbers.',
        content: {
          'application/json': { schema: ref(kind === 'coco' ? 'CocoEvalResult' : 'VocEvalResult') },
        },
      },
      '400': errorResponse('Malformed input: the message names the record and the problem.'),
      '413': errorResponse('Body over the size limit.'),
      '415': errorResponse('Not application/json.'),
      '501': errorResponse('This server has no evaluator.'),
      '503': errorResponse('Queue full.', retryAfter),
    },
  },
});

export function buildOpenApi(): Record<string, unknown> {
  return {
    openapi: '3.0.3',
    info: {
      title: 'resdet server',
      version: resdetVersion(),
      description:
        'ResNet classification and Faster R-CNN detection over HTTP, with VOC/COCO evaluation. Errors are JSON `{"error": {status, code, message, hint?}}`.',
    },
    servers: [{ url: '/' }],
    paths: {
      '/healthz': {
        get: {
          operationId: 'health',
          summary: 'Liveness: the process answers.',
          responses: {
            '200': {
              description: 'Alive.',
              content: {
                'application/json': {
                  schema: { type: 'object', properties: { status: { type: 'string' } } },
                },
              },
            },
          },
        },
      },
      '/readyz': {
        get: {
          operationId: 'ready',
          summary: 'Readiness: models loaded and not shutting down.',
          responses: {
            '200': { description: 'Ready.', content: { 'application/json': { schema: ref('Readiness') } } },
            '503': {
              description: 'Not ready (loading or draining).',
              content: { 'application/json': { schema: ref('Readiness') } },
            },
          },
        },
      },
      '/v1/models': {
        get: {
          operationId: 'models',
          summary: 'The loaded models (names, classes, input sizes), the backend and the limits.',
          responses: {
            '200': { description: 'Models.', content: { 'application/json': { schema: ref('Models') } } },
            '503': errorResponse('Models still loading.', retryAfter),
          },
        },
      },
      '/v1/classify': {
        post: {
          operationId: 'classify',
          summary: 'Top-k classes of an image.',
          parameters: [
            query('topk', 'How many classes (default 5, at most the number of classes).', {
              type: 'integer',
              minimum: 1,
            }),
          ],
          requestBody: imageBody,
          responses: {
            '200': {
              description: 'Classes, most probable first.',
              content: { 'application/json': { schema: ref('ClassifyResult') } },
            },
            '404': errorResponse('No classifier loaded (start the server with --classifier).'),
            ...imageErrors,
          },
        },
      },
      '/v1/detect': {
        post: {
          operationId: 'detect',
          summary: 'Objects in an image: boxes in original-image pixels, labels and scores.',
          parameters: [
            query('score_threshold', 'Keep detections scoring at least this (default 0.05).', {
              type: 'number',
              minimum: 0,
              maximum: 1,
            }),
            query('max_detections', 'At most this many detections, best first (default 100).', {
              type: 'integer',
              minimum: 1,
              maximum: 1000,
            }),
            query(
              'format',
              '`json` (default), `coco` (COCO result records) or `voc` (devkit result lines per class).',
              {
                type: 'string',
                enum: ['json', 'coco', 'voc'],
              },
            ),
            query(
              'image_id',
              'Image id written into coco/voc output (default 0); digits become a number in coco.',
              {
                type: 'string',
              },
            ),
          ],
          requestBody: imageBody,
          responses: {
            '200': {
              description: 'Detections, in the requested format.',
              content: {
                'application/json': {
                  schema: {
                    oneOf: [
                      ref('DetectResult'),
                      { type: 'array', items: ref('CocoResult') },
                      ref('VocLines'),
                    ],
                  },
                },
              },
            },
            ...imageErrors,
          },
        },
      },
      '/v1/evaluate/coco': evaluation('coco'),
      '/v1/evaluate/voc': evaluation('voc'),
      '/metrics': {
        get: {
          operationId: 'metrics',
          summary:
            'Prometheus text format: requests by route and status, request latency histograms, inference time, queue depth.',
          responses: {
            '200': { description: 'Metrics.', content: { 'text/plain': { schema: { type: 'string' } } } },
          },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'openapi',
          summary: 'This document.',
          responses: {
            '200': {
              description: 'OpenAPI 3 document.',
              content: { 'application/json': { schema: { type: 'object' } } },
            },
          },
        },
      },
    },
    components: { schemas: SCHEMAS },
  };
}

const box = { type: 'array', items: { type: 'number' }, minItems: 4, maxItems: 4 };
const size = {
  type: 'object',
  required: ['width', 'height'],
  properties: { width: { type: 'integer' }, height: { type: 'integer' } },
};
const timings = {
  type: 'object',
  properties: { decodeMs: { type: 'number' }, inferenceMs: { type: 'number' } },
};
const modelInfo = {
  type: 'object',
  required: ['name', 'kind', 'arch', 'classes', 'preprocessing'],
  properties: {
    name: { type: 'string' },
    kind: { type: 'string', enum: ['classifier', 'detector'] },
    arch: { type: 'string' },
    classes: { type: 'array', items: { type: 'string' } },
    preprocessing: {
      type: 'object',
      description: 'Normalisation and input sizes from the checkpoint config.',
    },
  },
};

const SCHEMAS: Record<string, Schema> = {
  Error: {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['status', 'code', 'message'],
        properties: {
          status: { type: 'integer' },
          code: {
            type: 'string',
            description: 'Stable machine-readable reason, e.g. payload_too_large, queue_full.',
          },
          message: { type: 'string' },
          hint: { type: 'string' },
        },
      },
    },
  },
  Readiness: {
    type: 'object',
    required: ['ready'],
    properties: { ready: { type: 'boolean' }, reason: { type: 'string' } },
  },
  ModelInfo: modelInfo,
  Models: {
    type: 'object',
    properties: {
      backend: { type: 'string', nullable: true },
      detector: {
        allOf: [
          ref('ModelInfo'),
          {
            type: 'object',
            properties: { categoryIds: { type: 'array', items: { type: 'integer' }, nullable: true } },
          },
        ],
      },
      classifier: { allOf: [ref('ModelInfo')], nullable: true },
      limits: {
        type: 'object',
        properties: {
          maxBodyBytes: { type: 'integer' },
          maxPixels: { type: 'integer' },
          concurrency: { type: 'integer' },
          queue: { type: 'integer' },
          timeoutMs: { type: 'integer' },
        },
      },
    },
  },
  ClassifyResult: {
    type: 'object',
    required: ['model', 'image', 'topk', 'predictions'],
    properties: {
      model: { type: 'string' },
      image: size,
      topk: { type: 'integer' },
      predictions: {
        type: 'array',
        items: {
          type: 'object',
          required: ['index', 'label', 'prob', 'logit'],
          properties: {
            index: { type: 'integer' },
            label: { type: 'string' },
            prob: { type: 'number' },
            logit: { type: 'number' },
          },
        },
      },
      timings,
    },
  },
  Detection: {
    type: 'object',
    required: ['box', 'label', 'labelIndex', 'score'],
    properties: {
      box: { ...box, description: '[x1, y1, x2, y2] in original-image pixels.' },
      label: { type: 'string' },
      labelIndex: { type: 'integer' },
      score: { type: 'number' },
    },
  },
  DetectResult: {
    type: 'object',
    required: ['model', 'image', 'detections'],
    properties: {
      model: { type: 'string' },
      image: size,
      detections: { type: 'array', items: ref('Detection') },
      timings,
    },
  },
  CocoResult: {
    type: 'object',
    required: ['image_id', 'category_id', 'bbox', 'score'],
    properties: {
      image_id: { oneOf: [{ type: 'integer' }, { type: 'string' }] },
      category_id: {
        type: 'integer',
        description: "The dataset's category id (class index + 1 without one).",
      },
      bbox: { ...box, description: '[x, y, width, height] in pixels.' },
      score: { type: 'number' },
    },
  },
  VocLines: {
    type: 'object',
    required: ['image_id', 'lines'],
    properties: {
      image_id: { type: 'string' },
      lines: {
        type: 'object',
        description:
          'Per class name, lines for comp4_det_test_<class>.txt: `<image_id> <score> <xmin> <ymin> <xmax> <ymax>` (1-based, devkit convention).',
        additionalProperties: { type: 'array', items: { type: 'string' } },
      },
    },
  },
  CocoEvalRequest: {
    type: 'object',
    required: ['gt', 'dt'],
    properties: {
      gt: { type: 'object', description: 'A COCO instances document: images, annotations, categories.' },
      dt: {
        type: 'array',
        description: 'COCO result records {image_id, category_id, bbox, score}.',
        items: ref('CocoResult'),
      },
    },
  },
  CocoEvalResult: {
    type: 'object',
    description:
      'The 12 pycocotools summary numbers and per-category AP (-1 for a category without ground truth).',
    properties: Object.fromEntries(
      ['AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'AR1', 'AR10', 'AR100', 'ARs', 'ARm', 'ARl']
        .map((k) => [k, { type: 'number' }] as [string, Schema])
        .concat([['per_category', { type: 'object', additionalProperties: { type: 'number' } }]]),
    ),
  },
  VocEvalRequest: {
    type: 'object',
    required: ['images', 'detections'],
    properties: {
      images: {
        type: 'array',
        description:
          'The evaluated images and their objects; bbox [xmin, ymin, xmax, ymax] is 1-based and inclusive, as in VOC XML.',
        items: {
          type: 'object',
          required: ['id', 'objects'],
          properties: {
            id: { type: 'string' },
            objects: {
              type: 'array',
              items: {
                type: 'object',
                required: ['name', 'bbox'],
                properties: { name: { type: 'string' }, bbox: box, difficult: { type: 'boolean' } },
              },
            },
          },
        },
      },
      detections: {
        type: 'array',
        description: 'Detections, boxes in the same 1-based devkit convention.',
        items: {
          type: 'object',
          required: ['image_id', 'class', 'score', 'bbox'],
          properties: {
            image_id: { type: 'string' },
            class: { type: 'string' },
            score: { type: 'number' },
            bbox: box,
          },
        },
      },
      metric: { type: 'string', enum: ['voc07', 'area'], description: 'Default: both.' },
      classes: {
        type: 'array',
        items: { type: 'string' },
        description: 'Classes to report, in order (default: all seen).',
      },
    },
  },
  VocEvalResult: {
    type: 'object',
    description: 'Per-class AP and mAP for each metric computed.',
    properties: {
      classes: { type: 'array', items: { type: 'string' } },
      voc07: { type: 'object', properties: { mAP: { type: 'number' }, ap: { type: 'object' } } },
      area: { type: 'object', properties: { mAP: { type: 'number' }, ap: { type: 'object' } } },
    },
  },
};
