import type { RequestBudget } from './request-budget.js';
import { feedbackStoreChoices } from '../feedback/store-choices.js';
import { modelLoadErrorInWords, s3ErrorInWords } from './health-words.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StaticSiteHandler } from './static-site.js';
import { HttpError, sendError, sendJson } from './http-errors.js';
import { discardRest, readBodyLimited } from './request-body.js';
import { readMultipart } from './multipart.js';
import { checkImageContentType, prepareUpload } from './image-input.js';
import type { ModelHolder } from './model-holder.js';
import type { TokenBucketLimiter } from './rate-limit.js';
import type { ServerMetrics } from './server-instruments.js';
import { PROMETHEUS_CONTENT_TYPE } from '../monitoring/prometheus-registry.js';
import { renderProcessMetrics } from '../monitoring/process-metrics.js';
import { acceptFeedback, checkFeedbackForm, type FeedbackServiceOptions } from './feedback-route.js';
import { FEEDBACK_FORM } from '../feedback/form.js';
import type { PredictResponse } from '../feedback/types.js';
import type { PredictionMonitor } from './prediction-monitor.js';
import type { Log } from '../progress/index.js';
import type { ModelSourceStatus } from '../registry/remote.js';
import type { Semaphore } from '../data/concurrency.js';
import { requestIdOf } from './request-id.js';
import { openApiDocument } from './openapi.js';
import {
  handleOpenInference,
  matchOpenInference,
  openInferenceMethod,
  sendOpenInferenceError,
  type OpenInferenceContext,
  newParseSemaphore,
} from './open-inference.js';
import { monitoringRoute } from './monitoring-route.js';
import type { ServingHistoryView } from '../monitoring/serving-history.js';
import { samplesFromSnapshot } from '../monitoring/serving-stats.js';

export interface AppContext {
  holder: ModelHolder;
  metrics: ServerMetrics;
  feedback: FeedbackServiceOptions;
  limiter: TokenBucketLimiter | null;
  site: StaticSiteHandler | null;
  monitor: PredictionMonitor | null;
  maxUploadBytes: number;
  maxPixels: number;
  /** Bounds the image decodes running at once (their memory). */
  decodes: Semaphore;
  /** The client's address for rate limiting (see client-address.ts: X-Forwarded-For only from trusted proxies). */
  clientAddress: (remote: string | undefined, forwardedFor: string | string[] | undefined) => string;
  startedAt: number;
  log: Log;
  /** The model's name on the Open Inference Protocol routes (/v2/models/NAME). */
  modelName: string;
  /** Largest N of a /v2 inference request. */
  maxBatch: number;
  /** Largest JSON body of a /v2 inference request. */
  maxInferBodyBytes: number;
  /** What one Open Inference Protocol request may cost (decoded pixels, tensor elements). */
  requestBudget: RequestBudget;
  /** A replica's model source (models published on S3), shown in /api/health; absent for the local registry. */
  modelSource?: () => ModelSourceStatus;
  /** The serving counters minute by minute, up to now (GET /api/monitoring). */
  servingHistory?: () => ServingHistoryView;
}

export type { PredictResponse };

/** The server's own routes (besides /v2 and the site) and the method each takes; openapi.ts describes them all. */
export const API_ROUTES = {
  '/api/predict': 'POST',
  '/api/feedback': 'POST',
  '/api/health': 'GET',
  '/api/monitoring': 'GET',
  '/metrics': 'GET',
  '/openapi.json': 'GET',
} as const satisfies Record<string, 'GET' | 'POST'>;

type Route = keyof typeof API_ROUTES | 'site' | 'not-found';
const API_METHODS: Record<string, string> = API_ROUTES;

function rateLimit(ctx: AppContext, req: IncomingMessage): void {
  if (!ctx.limiter) return;
  const d = ctx.limiter.take(ctx.clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for']));
  if (!d.allowed) {
    throw new HttpError(429, 'rate_limited', `too many requests; retry in ${d.retryAfterSeconds} s`, {
      'retry-after': String(d.retryAfterSeconds),
    });
  }
}

function isMultipart(req: IncomingMessage): boolean {
  return /^multipart\/form-data/i.test(req.headers['content-type'] ?? '');
}

/** The photo of a predict request: a raw image body, or the `photo` (or first) file of a multipart form. */
async function readPhoto(ctx: AppContext, req: IncomingMessage): Promise<Buffer> {
  if (isMultipart(req)) {
    const form = await readMultipart(req, { fileBytes: ctx.maxUploadBytes });
    const file = form.files.find((f) => f.field === 'photo' || f.field === 'image') ?? form.files[0];
    if (!file) throw new HttpError(400, 'missing_photo', 'the form has no photo file (field "photo")');
    return file.data;
  }
  checkImageContentType(req.headers['content-type']);
  return readBodyLimited(req, ctx.maxUploadBytes);
}

/** Why there is no model to answer: a promoted version that failed to load, or none promoted. */
function noModelError(ctx: AppContext): HttpError {
  const failed = ctx.holder.loadError;
  if (failed) {
    return new HttpError(503, 'model_load_failed', modelLoadErrorInWords(failed).message);
  }
  return new HttpError(503, 'no_model', 'no model is promoted yet; promote one with the registry');
}

async function predict(ctx: AppContext, req: IncomingMessage, res: ServerResponse, t0: number): Promise<void> {
  rateLimit(ctx, req);
  if (!ctx.holder.current) throw noModelError(ctx);
  const photo = await readPhoto(ctx, req);
  const answer = await ctx.holder.use(async (model) => {
    const input = await ctx.decodes.run(() => prepareUpload(photo, model.imageSize, ctx.maxPixels, model.wholeView));
    const probability = await model.predict(input.pixels, input.view);
    const isCat = probability >= model.threshold;
    const body: PredictResponse = {
      probability,
      decision: isCat ? 'cat' : 'not-cat',
      isCat,
      threshold: model.threshold,
      modelVersion: model.version,
      latencyMs: Math.round((performance.now() - t0) * 100) / 100,
    };
    return body;
  });
  if (!answer) throw noModelError(ctx);
  sendJson(res, 200, answer);
  ctx.metrics.predictions.inc({ decision: answer.decision });
  ctx.monitor?.record(
    {
      time: new Date().toISOString(),
      version: answer.modelVersion,
      probability: answer.probability,
      decision: answer.decision,
      latencyMs: answer.latencyMs,
    },
    photo,
  );
}

async function feedback(ctx: AppContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  rateLimit(ctx, req);
  if (!isMultipart(req)) {
    throw new HttpError(415, 'unsupported_media_type', 'send feedback as multipart/form-data (photo, prediction, answer, consent, store)');
  }
  const form = await readMultipart(req, { fileBytes: ctx.maxUploadBytes });
  checkFeedbackForm(form.fields);
  const file = form.files.find((f) => f.field === FEEDBACK_FORM.fields.photo) ?? form.files[0];
  if (!file) throw new HttpError(400, 'missing_photo', 'the form has no photo file (field "photo")');
  const result = await acceptFeedback(ctx.feedback, file.data, form.fields, ctx.holder.current?.version ?? null, {
    client: ctx.clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for']),
    features: (photo) => featuresOf(ctx, photo),
  });
  ctx.metrics.feedback.inc({ result: result.replay ? 'replayed' : result.status });
  if (result.replay) sendJson(res, 200, { id: result.id, status: result.status, replay: true });
  else sendJson(res, result.status === 'stored' ? 201 : 202, { id: result.id, status: result.status });
}

/** The served model's features of a feedback photo (store=features), computed in an inference worker under the decode bound. */
async function featuresOf(ctx: AppContext, photo: Buffer) {
  const answer = await ctx.holder.use(async (model) => {
    if (!model.features) {
      throw new HttpError(
        422,
        'features_unavailable',
        `the served model (v${model.version}) was trained without a pretrained backbone, so it cannot keep numbers from your photo instead of the photo: choose to keep the photo (store=photo), or do not send feedback`,
      );
    }
    return { features: await ctx.decodes.run(() => model.features!(photo, ctx.maxPixels)), version: model.version };
  });
  if (!answer) throw noModelError(ctx);
  return answer;
}

/** The feedback side of health: S3 as the uploader sees it ('unavailable' while failing or stalled) and the queue. */
function feedbackHealth(ctx: AppContext, queued: number) {
  const { s3, lastError, nextAttemptAt } = ctx.feedback.uploader.status();
  // In words: the uploader's own message names the S3 endpoint and the object key (it goes to the log).
  const words = lastError === null ? null : s3ErrorInWords(ctx.feedback.uploader.lastError ?? new Error(lastError), 'feedback uploads');
  return { s3, queued, uploading: s3 !== 'unavailable', lastError: words, nextAttemptAt };
}

function modelSourceInWords(status: ModelSourceStatus): ModelSourceStatus {
  return { ...status, lastError: status.lastError === null ? null : s3ErrorInWords(new Error(status.lastError), 'the published models') };
}

async function health(ctx: AppContext, res: ServerResponse): Promise<void> {
  const model = ctx.holder.current;
  const depth = await ctx.feedback.uploader.depth().catch(() => -1);
  ctx.metrics.feedbackQueue.set(Math.max(0, depth));
  const loadError = ctx.holder.loadError;
  sendJson(res, model ? 200 : 503, {
    status: model ? 'ok' : loadError ? 'model-load-failed' : 'no-model',
    model: model
      ? { version: model.version, threshold: model.threshold, imageSize: model.imageSize, feedback: feedbackStoreChoices({ hasBackbone: model.features !== undefined }) }
      : null,
    modelLoadError: loadError ? modelLoadErrorInWords(loadError) : null,
    ...(ctx.modelSource ? { modelSource: modelSourceInWords(ctx.modelSource()) } : {}),
    feedback: feedbackHealth(ctx, depth),
    uptimeSeconds: Math.round((Date.now() - ctx.startedAt) / 1000),
  });
}

async function metricsRoute(ctx: AppContext, res: ServerResponse): Promise<void> {
  const depth = await ctx.feedback.uploader.depth().catch(() => undefined);
  if (depth !== undefined) ctx.metrics.feedbackQueue.set(depth);
  // The application's metrics, then the process's (heap, RSS, event-loop lag, GC, handles) from prom-client.
  const app = ctx.metrics.registry.render();
  const text = `${app}${app.endsWith('\n') || !app ? '' : '\n'}${await renderProcessMetrics()}`;
  res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE, 'cache-control': 'no-store' });
  res.end(text);
}

function routeOf(pathname: string): Route {
  if (pathname in API_METHODS) return pathname as Route;
  return pathname.startsWith('/api/') ? 'not-found' : 'site';
}

function openInferenceContext(ctx: AppContext): OpenInferenceContext {
  return {
    holder: ctx.holder,
    modelName: ctx.modelName,
    maxBatch: ctx.maxBatch,
    maxImageBytes: ctx.maxUploadBytes,
    maxBodyBytes: ctx.maxInferBodyBytes,
    maxPixels: ctx.maxPixels,
    decodes: ctx.decodes,
    budget: ctx.requestBudget,
    parses: newParseSemaphore(),
    onPrediction: ({ probability, decision, version, latencyMs, photo }) => {
      ctx.metrics.predictions.inc({ decision });
      if (photo) ctx.monitor?.record({ time: new Date().toISOString(), version, probability, decision, latencyMs }, photo);
    },
  };
}

/**
 * The server's request handler: API routes, the Open Inference Protocol routes under /v2, /metrics, then the built
 * site. Every answer is counted in metrics and logged with the request id, which the response returns in
 * `X-Request-Id` (taken from the request's when it is a sane token, else generated).
 */
export function createRequestHandler(ctx: AppContext) {
  const v2ctx = openInferenceContext(ctx);
  const monitoring = monitoringRoute({ metrics: () => samplesFromSnapshot(ctx.metrics.registry.snapshot()), servingHistory: ctx.servingHistory });
  return (req: IncomingMessage, res: ServerResponse): void => {
    const t0 = performance.now();
    const reqId = requestIdOf(req.headers['x-request-id']);
    res.setHeader('x-request-id', reqId);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathname = q === -1 ? url : url.slice(0, q);
    const v2 = pathname === '/v2' || pathname.startsWith('/v2/') ? matchOpenInference(pathname) : null;
    let route: string = v2 ? v2.label : routeOf(pathname);

    // Counted once, when the answer is sent or the connection is gone first (status 499, as nginx logs it).
    let counted = false;
    const count = () => {
      if (counted) return;
      counted = true;
      const status = res.writableFinished ? String(res.statusCode) : '499';
      ctx.metrics.requests.inc({ route, method: req.method ?? 'GET', status });
      const seconds = (performance.now() - t0) / 1000;
      // By status too, so that latency percentiles can be of answered requests (a refused one is not a prediction).
      ctx.metrics.duration.observe(seconds, { route, status });
      ctx.log(`${req.method} ${pathname} ${status}`, {
        level: Number(status) >= 500 ? 'warn' : 'info',
        reqId,
        method: req.method,
        path: pathname,
        route,
        status: Number(status),
        durationMs: Math.round(seconds * 100_000) / 100,
      });
    };
    res.on('finish', count);
    res.on('close', count);

    const fail = (err: unknown) => {
      if (!(err instanceof HttpError)) ctx.log(`error on ${req.method} ${pathname}: ${(err as Error)?.stack ?? err}`, { level: 'error', reqId });
      ctx.metrics.errors.inc({ route, code: err instanceof HttpError ? err.code : 'internal_error' });
      const bodyUnread = !req.complete;
      if (v2) sendOpenInferenceError(res, err, bodyUnread);
      else sendError(res, err, bodyUnread);
      if (bodyUnread) discardRest(req);
    };

    const run = async () => {
      if (v2) {
        const method = openInferenceMethod(v2);
        if (v2.kind !== 'not-found' && req.method !== method && !(method === 'GET' && req.method === 'HEAD')) {
          throw new HttpError(405, 'method_not_allowed', `${v2.label} accepts ${method} only`, { allow: method });
        }
        if (v2.kind === 'infer') rateLimit(ctx, req);
        return handleOpenInference(v2ctx, v2, req, res, t0);
      }
      if (route === 'site') {
        if (ctx.site && ctx.site(req, res)) return;
        route = 'not-found';
        throw new HttpError(404, 'not_found', `nothing at ${pathname}`);
      }
      if (route === 'not-found') throw new HttpError(404, 'not_found', `no API route ${pathname}`);
      const method = API_METHODS[route];
      if (req.method !== method && !(method === 'GET' && req.method === 'HEAD')) {
        throw new HttpError(405, 'method_not_allowed', `${route} accepts ${method} only`, { allow: method });
      }
      switch (route) {
        case '/api/predict':
          return predict(ctx, req, res, t0);
        case '/api/feedback':
          return feedback(ctx, req, res);
        case '/api/health':
          return health(ctx, res);
        case '/metrics':
          return metricsRoute(ctx, res);
        case '/api/monitoring':
          return monitoring(res);
        case '/openapi.json':
          return sendJson(res, 200, openApiDocument({ modelName: ctx.modelName }));
      }
    };
    run().catch(fail);
  };
}
