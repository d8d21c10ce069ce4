import { packageVersion } from './open-inference.js';

/**
 * The OpenAPI 3.1 description of the server's HTTP API (`/api/*`, `/metrics`, `/openapi.json` and the Open Inference
 * Protocol under `/v2`), served at `GET /openapi.json`.
 *
 * Examples pair by name: a response example named N is what the server answers to the request made of the examples
 * named N (each parameter's example N or else its `example`; the body's example N or else its first example). Bodies of binary media types
 * (images) are given in base64. test/serve/openapi.test.ts sends every example and expects the documented status.
 */

export type JsonSchema = { [key: string]: unknown };

export interface ExampleObject {
  summary?: string;
  description?: string;
  value: unknown;
}

export interface MediaTypeObject {
  schema?: JsonSchema;
  examples?: Record<string, ExampleObject>;
  /** Per-property encoding of a multipart body (the file parts' content types). */
  encoding?: Record<string, { contentType: string }>;
}

export interface ParameterObject {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  description?: string;
  schema: JsonSchema;
  example?: unknown;
  examples?: Record<string, ExampleObject>;
}

export interface ResponseObject {
  description: string;
  headers?: Record<string, { description?: string; schema: JsonSchema }>;
  content?: Record<string, MediaTypeObject>;
}

export interface OperationObject {
  operationId: string;
  summary: string;
  description?: string;
  tags?: string[];
  parameters?: ParameterObject[];
  requestBody?: { required?: boolean; description?: string; content: Record<string, MediaTypeObject> };
  responses: Record<string, ResponseObject>;
}

export type PathItemObject = Partial<Record<'get' | 'post', OperationObject>> & { parameters?: ParameterObject[] };

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description?: string; license?: { name: string; identifier?: string } };
  tags?: Array<{ name: string; description?: string }>;
  paths: Record<string, PathItemObject>;
  components: { schemas: Record<string, JsonSchema>; responses: Record<string, ResponseObject> };
}

/** An 8x8 orange PNG (95 bytes), base64: a valid image for the examples. */
const TINY_PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAACXBIWXMAAAPoAAAD6AG1e1JrAAAAEUlEQVQI12M4UWGDFTEMLQkAQfNfAUTUpYcAAAAASUVORK5CYII=';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: JsonSchema, examples?: Record<string, ExampleObject>): Record<string, MediaTypeObject> => ({
  'application/json': examples ? { schema, examples } : { schema },
});

const REQUEST_ID_HEADER = {
  'x-request-id': { description: 'The request id: the sent X-Request-Id when it is a sane token, else a generated UUID', schema: { type: 'string' } },
};

/** A JSON answer, with the X-Request-Id header every answer carries. */
function answer(description: string, schema: JsonSchema, examples?: Record<string, ExampleObject>): ResponseObject {
  return { description, headers: REQUEST_ID_HEADER, content: json(schema, examples) };
}

const apiError = (description: string, examples?: Record<string, ExampleObject>) => answer(description, ref('ApiError'), examples);
const v2Error = (description: string, examples?: Record<string, ExampleObject>) => answer(description, ref('V2Error'), examples);

const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/gif'] as const;

function predictOperation(): OperationObject {
  const binary = (type: string): MediaTypeObject => ({ schema: { type: 'string', contentMediaType: type } });
  const content: Record<string, MediaTypeObject> = Object.fromEntries(IMAGE_TYPES.map((t) => [t, binary(t)]));
  content['image/png'] = {
    ...binary('image/png'),
    examples: {
      photo: { summary: 'a photo (base64 of the PNG bytes to send)', value: TINY_PNG },
      'not-an-image': { summary: 'bytes that are not an image (base64)', value: Buffer.from('hello, not a picture').toString('base64') },
    },
  };
  content['multipart/form-data'] = {
    schema: { type: 'object', properties: { photo: { type: 'string', contentMediaType: 'image/*' } }, required: ['photo'] },
    encoding: { photo: { contentType: 'image/jpeg, image/png, image/webp, image/gif' } },
  };
  return {
    operationId: 'predict',
    tags: ['api'],
    summary: 'Is this photo a cat?',
    description:
      'Send the photo as the raw body (JPEG, PNG, WebP or GIF) or as the `photo` file of a multipart form. The image is ' +
      'checked against the pixel limit from its header before decoding. Rate-limited per client.',
    requestBody: { required: true, content },
    responses: {
      '200': answer('The prediction at the model\'s decision threshold', ref('Prediction'), {
        photo: { value: { probability: 0.93, decision: 'cat', isCat: true, threshold: 0.5, modelVersion: 1, latencyMs: 12.5 } },
      }),
      '400': apiError('Empty body, a form without a photo, or an undecodable image'),
      '413': apiError('The upload is over the size or pixel limit'),
      '415': apiError('Not a JPEG, PNG, WebP or GIF image', {
        'not-an-image': { value: { error: { code: 'not_an_image', message: 'the upload is not a JPEG, PNG, WebP or GIF image' } } },
      }),
      '429': apiError('Rate limited (Retry-After says when to retry)'),
      '503': apiError('No model is promoted, or the promoted one failed to load'),
    },
  };
}

function feedbackOperation(): OperationObject {
  return {
    operationId: 'feedback',
    tags: ['api'],
    summary: 'Tell whether a prediction was right (kept only with consent; the photo only when asked to)',
    description:
      'A multipart form: `photo`, `answer` (`cat` or `not-cat`), `consent` (`true`), what the model said ' +
      '(`prediction`, optionally `probability` and `modelVersion`) and what may be kept (`store`): `photo` (the default) ' +
      'keeps the photo, re-encoded without metadata, and the answer; `features` keeps only the served model\'s backbone ' +
      'features of the photo (plain and mirrored views), the answer, the model version, the backbone and feature recipe ' +
      'version, the time and hashes of the features and of the client: the photo is never written anywhere. The same ' +
      'photo, answer, prediction and choice sent again within the replay window answer 200 with the first id.',
    requestBody: {
      required: true,
      content: {
        'multipart/form-data': {
          schema: {
            type: 'object',
            properties: {
              photo: { type: 'string', contentMediaType: 'image/*' },
              answer: { enum: ['cat', 'not-cat'] },
              consent: { const: 'true' },
              prediction: { enum: ['cat', 'not-cat'] },
              probability: { type: 'string', description: 'a number from 0 to 1' },
              modelVersion: { type: 'string', description: 'a whole number' },
              store: { enum: ['photo', 'features'], default: 'photo', description: 'photo: keep the photo; features: keep only its features, never the photo' },
            },
            required: ['photo', 'answer', 'consent', 'prediction'],
          },
          encoding: { photo: { contentType: 'image/png' } },
          examples: {
            answer: {
              summary: 'a user says the photo is a cat (the photo is base64 of the PNG bytes)',
              value: { photo: TINY_PNG, answer: 'cat', consent: 'true', prediction: 'not-cat', probability: '0.31', modelVersion: '1' },
            },
            'no-consent': { summary: 'consent missing', value: { photo: TINY_PNG, answer: 'cat', prediction: 'cat' } },
          },
        },
      },
    },
    responses: {
      '200': answer('A replay of feedback already accepted: the first id', ref('FeedbackAccepted')),
      '201': answer('Stored in S3', ref('FeedbackAccepted'), { answer: { value: { id: '20261201T102501123Z-0123456789abcdef', status: 'stored' } } }),
      '202': answer('Queued on disk (S3 is slow or unavailable); uploaded later', ref('FeedbackAccepted')),
      '400': apiError('A field is missing or invalid, or there is no photo', {
        'no-consent': { value: { error: { code: 'consent_required', message: 'feedback is stored only with explicit consent: send consent=true' } } },
      }),
      '413': apiError('The photo is over the size or pixel limit'),
      '415': apiError('Not a multipart form, or the photo is not an image'),
      '422': apiError('store=features: the photo cannot be decoded, or the served model has no frozen backbone to compute features with'),
      '429': apiError('Rate limited'),
      '503': apiError('store=features and no model is loaded to compute the features'),
    },
  };
}

function healthOperation(): OperationObject {
  return {
    operationId: 'health',
    tags: ['api'],
    summary: 'The served model, its load error if any, and the feedback storage',
    responses: {
      '200': answer('A model is served', ref('Health'), {
        default: {
          value: {
            status: 'ok',
            model: { version: 1, threshold: 0.5, imageSize: 32 },
            modelLoadError: null,
            feedback: { s3: 'ok', queued: 0, uploading: true, lastError: null, nextAttemptAt: null },
            uptimeSeconds: 42,
          },
        },
      }),
      '503': answer('No model is served (none promoted, or the promoted one failed to load)', ref('Health')),
    },
  };
}

function metricsOperation(): OperationObject {
  return {
    operationId: 'metrics',
    tags: ['operations'],
    summary: 'Prometheus metrics: the application (areyouacat_*) and the process (process_*, nodejs_*)',
    responses: {
      '200': {
        description: 'The Prometheus text exposition format 0.0.4',
        headers: REQUEST_ID_HEADER,
        content: {
          'text/plain; version=0.0.4; charset=utf-8': {
            schema: { type: 'string' },
            examples: {
              default: {
                value:
                  '# HELP areyouacat_predictions_total Predictions answered, by decision\n# TYPE areyouacat_predictions_total counter\n' +
                  'areyouacat_predictions_total{decision="cat"} 3\n# HELP process_resident_memory_bytes Resident memory size in bytes.\n' +
                  '# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes 190000000\n',
              },
            },
          },
        },
      },
    },
  };
}

function monitoringOperation(): OperationObject {
  return {
    operationId: 'monitoring',
    tags: ['operations'],
    summary:
      'The monitoring report built now (what `areyouacat monitor` builds, not saved), as the site\'s monitoring page shows it; cached for 10 s. ' +
      'With the server\'s counters minute by minute over the last 24 hours (kept across restarts), read at every request',
    responses: {
      '200': answer(
        'Drift, prediction shift, real-world precision and recall, serving numbers, daily and hourly summaries, and the serving history',
        {
          type: 'object',
          required: ['report', 'source', 'days', 'hours', 'servingHistory', 'problems'],
          properties: {
            report: { type: ['object', 'null'], description: 'the monitoring report (the same as `areyouacat monitor --json`)' },
            source: { type: 'string', enum: ['server', 'file'] },
            days: { type: 'array', items: { type: 'object' } },
            hours: { type: 'array', items: { type: 'object' } },
            servingHistory: {
              type: 'object',
              description:
                'The server\'s counters per minute while it ran (a missing minute: it was not running), oldest first; ' +
                'saved to the monitoring folder every 5 minutes and at shutdown, read back at start',
              required: ['bucketSeconds', 'hours', 'buckets'],
              properties: {
                bucketSeconds: { type: 'integer', description: 'length of a bucket (60)' },
                hours: { type: 'number', description: 'how far back the history goes at most (24)' },
                buckets: {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: ['start', 'requests', 'errors4xx', 'errors5xx', 'predictions', 'p50Ms', 'p95Ms', 'p99Ms', 'partial'],
                    properties: {
                      start: { type: 'string', format: 'date-time', description: 'start of the minute (UTC)' },
                      requests: { type: 'integer', description: 'requests to the API routes (/api/ and the Open Inference Protocol\'s /v2) answered in the minute' },
                      errors4xx: { type: 'integer', description: 'of them, answered 4xx' },
                      errors5xx: { type: 'integer', description: 'of them, answered 5xx' },
                      predictions: { type: 'integer', description: 'predictions made (both APIs)' },
                      p50Ms: { type: ['number', 'null'], description: 'median latency of POST /api/predict in the minute (ms, from the latency histogram)' },
                      p95Ms: { type: ['number', 'null'], description: '95th percentile latency of POST /api/predict (ms)' },
                      p99Ms: { type: ['number', 'null'], description: '99th percentile latency of POST /api/predict (ms)' },
                      partial: { type: 'boolean', description: 'the minute is still in progress (the newest one): its counts are those so far' },
                    },
                  },
                },
              },
            },
            problems: { type: 'array', items: { type: 'string' } },
          },
        },
        {
          default: {
            value: {
              report: { alerts: [] },
              source: 'server',
              days: [],
              hours: [],
              servingHistory: {
                bucketSeconds: 60,
                hours: 24,
                buckets: [{ start: '2026-12-01T09:41:00.000Z', requests: 42, errors4xx: 2, errors5xx: 0, predictions: 38, p50Ms: 8.1, p95Ms: 21.4, p99Ms: 24.5, partial: false }],
              },
              problems: [],
            },
          },
        },
      ),
      '500': apiError('The report could not be built (e.g. an unreadable monitoring log)'),
    },
  };
}

function openApiOperation(): OperationObject {
  return {
    operationId: 'openapi',
    tags: ['operations'],
    summary: 'This description of the HTTP API (OpenAPI 3.1)',
    responses: { '200': answer('The OpenAPI document', { type: 'object' }, { default: { value: { openapi: '3.1.0' } } }) },
  };
}

/** The parameters of the /v2/models/{name}[/versions/{version}] routes. */
function modelParameters(modelName: string, versioned: boolean): ParameterObject[] {
  const name: ParameterObject = {
    name: 'name',
    in: 'path',
    required: true,
    description: 'The model name (`serve --model-name`)',
    schema: { type: 'string' },
    example: modelName,
    examples: { 'unknown-model': { value: 'no-such-model' } },
  };
  if (!versioned) return [name];
  return [
    name,
    {
      name: 'version',
      in: 'path',
      required: true,
      description: 'The promoted registry version, as a string',
      schema: { type: 'string' },
      example: '1',
      examples: { 'unknown-version': { value: '999' } },
    },
  ];
}

function modelOperations(modelName: string, versioned: boolean): Record<string, PathItemObject> {
  const base = versioned ? '/v2/models/{name}/versions/{version}' : '/v2/models/{name}';
  const id = versioned ? 'Version' : '';
  const notFound = v2Error('Unknown model or version', {
    'unknown-model': { value: { error: `unknown model "no-such-model" (this server serves "${modelName}")` } },
    ...(versioned ? { 'unknown-version': { value: { error: 'unknown version "999" (the ready version is "1")' } } } : {}),
  });
  const parameters = modelParameters(modelName, versioned);
  return {
    [base]: {
      parameters,
      get: {
        operationId: `v2ModelMetadata${id}`,
        tags: ['open-inference'],
        summary: 'Model metadata: name, versions, platform, input and output tensors',
        responses: {
          '200': answer('The model metadata', ref('V2ModelMetadata'), {
            default: {
              value: {
                name: modelName,
                versions: ['1'],
                platform: 'tensorflowjs_layers',
                inputs: [
                  { name: 'image', datatype: 'BYTES', shape: [-1] },
                  { name: 'pixels', datatype: 'FP32', shape: [-1, 32, 32, 3] },
                ],
                outputs: [
                  { name: 'p_cat', datatype: 'FP32', shape: [-1, 1] },
                  { name: 'label', datatype: 'BYTES', shape: [-1] },
                ],
              },
            },
          }),
          '404': notFound,
          '503': v2Error('No model is ready'),
        },
      },
    },
    [`${base}/ready`]: {
      parameters,
      get: {
        operationId: `v2ModelReady${id}`,
        tags: ['open-inference'],
        summary: 'Whether the model is ready',
        responses: {
          '200': answer('Ready', ref('V2ModelReady'), { default: { value: { name: modelName, ready: true } } }),
          '404': notFound,
          '503': answer('Not ready', ref('V2ModelReady')),
        },
      },
    },
    [`${base}/infer`]: {
      parameters,
      post: {
        operationId: `v2Infer${id}`,
        tags: ['open-inference'],
        summary: 'Inference on N photos (`image`, BYTES, base64 files) or N prepared images (`pixels`, FP32 [N, S, S, 3]; a backbone model also [N, H, W, 3] whole views)',
        description:
          'Prepared `pixels` are RGB values 0..255, row-major (height, width, channel), as the model reads them. A CNN reads the ' +
          'S x S centre square of a photo. A pretrained-backbone model reads the whole view of a photo instead: shorter side S, ' +
          'longer side S * aspect rounded to a multiple of 32 and kept between S and 2S (resized with fit cover, centre, Lanczos-3), ' +
          'so its `pixels` may be [N, H, W, 3] for any such shape (all N of one shape; the model metadata shows [-1, -1, -1, 3]); ' +
          'its P(cat) is the mean over the view and its mirror image. `image` inputs are prepared on the server the same way.',
        requestBody: {
          required: true,
          content: json(ref('V2InferRequest'), {
            photo: {
              summary: 'one photo, base64-encoded',
              value: { id: 'req-1', inputs: [{ name: 'image', shape: [1], datatype: 'BYTES', data: [TINY_PNG] }] },
            },
            'bad-datatype': {
              summary: 'an image input with the wrong datatype',
              value: { inputs: [{ name: 'image', shape: [1], datatype: 'FP32', data: [1] }] },
            },
          }),
        },
        responses: {
          '200': answer('The outputs p_cat (FP32 [N, 1]) and label (BYTES [N]), filtered by the request\'s `outputs`', ref('V2InferResponse'), {
            photo: {
              value: {
                model_name: modelName,
                model_version: '1',
                id: 'req-1',
                outputs: [
                  { name: 'p_cat', shape: [1, 1], datatype: 'FP32', data: [0.93] },
                  { name: 'label', shape: [1], datatype: 'BYTES', data: ['cat'] },
                ],
              },
            },
          }),
          '400': v2Error('A malformed request or an unusable image', {
            'bad-datatype': { value: { error: 'input "image" must have datatype BYTES (got "FP32")' } },
          }),
          '404': notFound,
          '413': v2Error('The body is over the limit (4x --max-upload-mb)'),
          '415': v2Error('The body is not JSON'),
          '429': v2Error('Rate limited'),
          '503': v2Error('No model is ready'),
        },
      },
    },
  };
}

const SCHEMAS: Record<string, JsonSchema> = {
  ApiError: {
    type: 'object',
    properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } }, required: ['code', 'message'] } },
    required: ['error'],
  },
  V2Error: { type: 'object', properties: { error: { type: 'string' } }, required: ['error'] },
  Prediction: {
    type: 'object',
    properties: {
      probability: { type: 'number', minimum: 0, maximum: 1 },
      decision: { enum: ['cat', 'not-cat'] },
      isCat: { type: 'boolean' },
      threshold: { type: 'number' },
      modelVersion: { type: 'integer' },
      latencyMs: { type: 'number' },
    },
    required: ['probability', 'decision', 'isCat', 'threshold', 'modelVersion', 'latencyMs'],
  },
  FeedbackAccepted: {
    type: 'object',
    properties: { id: { type: 'string' }, status: { enum: ['stored', 'queued'] }, replay: { const: true } },
    required: ['id', 'status'],
  },
  Health: {
    type: 'object',
    properties: {
      status: { enum: ['ok', 'no-model', 'model-load-failed'] },
      model: { oneOf: [{ type: 'null' }, { type: 'object', properties: { version: { type: 'integer' }, threshold: { type: 'number' }, imageSize: { type: 'integer' } } }] },
      modelLoadError: { oneOf: [{ type: 'null' }, { type: 'object' }] },
      feedback: {
        type: 'object',
        properties: {
          s3: { enum: ['ok', 'unavailable', 'unknown'] },
          queued: { type: 'integer' },
          uploading: { type: 'boolean' },
          lastError: { type: ['string', 'null'] },
          nextAttemptAt: { type: ['string', 'null'] },
        },
      },
      uptimeSeconds: { type: 'integer' },
    },
    required: ['status', 'model', 'feedback', 'uptimeSeconds'],
  },
  V2Tensor: {
    type: 'object',
    properties: { name: { type: 'string' }, shape: { type: 'array', items: { type: 'integer' } }, datatype: { enum: ['BYTES', 'FP32'] }, data: { type: 'array' } },
    required: ['name', 'shape', 'datatype', 'data'],
  },
  V2TensorMetadata: {
    type: 'object',
    properties: { name: { type: 'string' }, datatype: { type: 'string' }, shape: { type: 'array', items: { type: 'integer' } } },
    required: ['name', 'datatype', 'shape'],
  },
  V2ServerMetadata: {
    type: 'object',
    properties: { name: { type: 'string' }, version: { type: 'string' }, extensions: { type: 'array', items: { type: 'string' } } },
    required: ['name', 'version', 'extensions'],
  },
  V2ModelMetadata: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      versions: { type: 'array', items: { type: 'string' } },
      platform: { type: 'string' },
      inputs: { type: 'array', items: ref('V2TensorMetadata') },
      outputs: { type: 'array', items: ref('V2TensorMetadata') },
    },
    required: ['name', 'platform', 'inputs', 'outputs'],
  },
  V2ModelReady: { type: 'object', properties: { name: { type: 'string' }, ready: { type: 'boolean' } }, required: ['name', 'ready'] },
  V2InferRequest: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      inputs: { type: 'array', minItems: 1, maxItems: 1, items: ref('V2Tensor') },
      outputs: { type: 'array', items: { type: 'object', properties: { name: { enum: ['p_cat', 'label'] } }, required: ['name'] } },
    },
    required: ['inputs'],
  },
  V2InferResponse: {
    type: 'object',
    properties: { model_name: { type: 'string' }, model_version: { type: 'string' }, id: { type: 'string' }, outputs: { type: 'array', items: ref('V2Tensor') } },
    required: ['model_name', 'model_version', 'id', 'outputs'],
  },
};

/** The document for a server whose model is served under `modelName` on /v2. */
export function openApiDocument(options: { modelName?: string } = {}): OpenApiDocument {
  const modelName = options.modelName ?? 'areyouacat';
  return {
    openapi: '3.1.0',
    info: {
      title: 'areyouacat',
      version: packageVersion(),
      description:
        'Is this photo a cat? The prediction and feedback API, health, Prometheus metrics, and the Open Inference ' +
        'Protocol (KServe V2 REST). Every answer carries X-Request-Id.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    tags: [
      { name: 'api', description: 'Prediction, feedback and health' },
      { name: 'operations', description: 'Metrics and this description' },
      { name: 'open-inference', description: 'The Open Inference Protocol (KServe V2 REST)' },
    ],
    paths: {
      '/api/predict': { post: predictOperation() },
      '/api/feedback': { post: feedbackOperation() },
      '/api/health': { get: healthOperation() },
      '/api/monitoring': { get: monitoringOperation() },
      '/metrics': { get: metricsOperation() },
      '/openapi.json': { get: openApiOperation() },
      '/v2': {
        get: {
          operationId: 'v2ServerMetadata',
          tags: ['open-inference'],
          summary: 'Server metadata',
          responses: { '200': answer('Name, version and extensions', ref('V2ServerMetadata'), { default: { value: { name: 'areyouacat', version: packageVersion(), extensions: [] } } }) },
        },
      },
      '/v2/health/live': {
        get: {
          operationId: 'v2Live',
          tags: ['open-inference'],
          summary: 'Liveness',
          responses: { '200': answer('The server is live', { type: 'object', properties: { live: { type: 'boolean' } } }, { default: { value: { live: true } } }) },
        },
      },
      '/v2/health/ready': {
        get: {
          operationId: 'v2Ready',
          tags: ['open-inference'],
          summary: 'Readiness: a model is loaded',
          responses: {
            '200': answer('Ready', { type: 'object', properties: { ready: { type: 'boolean' } } }, { default: { value: { ready: true } } }),
            '503': answer('Not ready', { type: 'object', properties: { ready: { type: 'boolean' } } }),
          },
        },
      },
      ...modelOperations(modelName, false),
      ...modelOperations(modelName, true),
    },
    components: { schemas: SCHEMAS, responses: {} },
  };
}
