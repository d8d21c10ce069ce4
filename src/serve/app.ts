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
import { acceptFeedback, checkFeedbackForm, type FeedbackServiceOptions } from './feedback-route.js';
import { FEEDBACK_FORM } from '../feedback/form.js';
import type { PredictResponse } from '../feedback/types.js';
import type { PredictionMonitor } from './prediction-monitor.js';
import type { Log } from '../progress/index.js';
import { monitoringRoute } from './monitoring-route.js';

export interface AppContext {
  holder: ModelHolder;
  metrics: ServerMetrics;
  feedback: FeedbackServiceOptions;
  limiter: TokenBucketLimiter | null;
  site: StaticSiteHandler | null;
  monitor: PredictionMonitor | null;
  maxUploadBytes: number;
  maxPixels: number;
  /** Take the client address from the first X-Forwarded-For entry (only behind a trusted proxy). */
  trustProxy: boolean;
  startedAt: number;
  log: Log;
}

export type { PredictResponse };

type Route = '/api/predict' | '/api/feedback' | '/api/health' | '/api/monitoring' | '/metrics' | 'site' | 'not-found';

const API_METHODS: Record<string, string> = {
  '/api/predict': 'POST',
  '/api/feedback': 'POST',
  '/api/health': 'GET',
  '/api/monitoring': 'GET',
  '/metrics': 'GET',
};

function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const fwd = req.headers['x-forwarded-for'];
    const first = (Array.isArray(fwd) ? fwd[0] : fwd)?.split(',')[0]?.trim();
    if (first) return first;
  }
  return req.socket.remoteAddress ?? 'unknown';
}

function rateLimit(ctx: AppContext, req: IncomingMessage): void {
  if (!ctx.limiter) return;
  const d = ctx.limiter.take(clientAddress(req, ctx.trustProxy));
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

async function predict(ctx: AppContext, req: IncomingMessage, res: ServerResponse, t0: number): Promise<void> {
  rateLimit(ctx, req);
  if (!ctx.holder.current) throw new HttpError(503, 'no_model', 'no model is promoted yet; promote one with the registry');
  const photo = await readPhoto(ctx, req);
  const answer = await ctx.holder.use(async (model) => {
    const input = await prepareUpload(photo, model.imageSize, ctx.maxPixels);
    const probability = await model.predict(input.pixels);
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
  if (!answer) throw new HttpError(503, 'no_model', 'no model is loaded');
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
    throw new HttpError(415, 'unsupported_media_type', 'send feedback as multipart/form-data (photo, prediction, answer, consent)');
  }
  const form = await readMultipart(req, { fileBytes: ctx.maxUploadBytes });
  checkFeedbackForm(form.fields);
  const file = form.files.find((f) => f.field === FEEDBACK_FORM.fields.photo) ?? form.files[0];
  if (!file) throw new HttpError(400, 'missing_photo', 'the form has no photo file (field "photo")');
  const result = await acceptFeedback(ctx.feedback, file.data, form.fields, ctx.holder.current?.version ?? null);
  ctx.metrics.feedback.inc({ result: result.status });
  sendJson(res, result.status === 'stored' ? 201 : 202, { id: result.id, status: result.status });
}

async function health(ctx: AppContext, res: ServerResponse): Promise<void> {
  const model = ctx.holder.current;
  const depth = await ctx.feedback.uploader.depth().catch(() => -1);
  ctx.metrics.feedbackQueue.set(Math.max(0, depth));
  sendJson(res, model ? 200 : 503, {
    status: model ? 'ok' : 'no-model',
    model: model ? { version: model.version, threshold: model.threshold, imageSize: model.imageSize } : null,
    feedback: { queued: depth, uploading: !ctx.feedback.uploader.backingOff },
    uptimeSeconds: Math.round((Date.now() - ctx.startedAt) / 1000),
  });
}

async function metricsRoute(ctx: AppContext, res: ServerResponse): Promise<void> {
  const depth = await ctx.feedback.uploader.depth().catch(() => undefined);
  if (depth !== undefined) ctx.metrics.feedbackQueue.set(depth);
  const text = ctx.metrics.registry.render();
  res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE, 'cache-control': 'no-store' });
  res.end(text);
}

function routeOf(pathname: string): Route {
  if (pathname in API_METHODS) return pathname as Route;
  return pathname.startsWith('/api/') ? 'not-found' : 'site';
}

/** The server's request handler: API routes, /metrics, then the built site. Every answer is counted in metrics. */
export function createRequestHandler(ctx: AppContext) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const t0 = performance.now();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathname = q === -1 ? url : url.slice(0, q);
    let route = routeOf(pathname);

    // Counted once, when the answer is sent or the connection is gone first (status 499, as nginx logs it).
    let counted = false;
    const count = () => {
      if (counted) return;
      counted = true;
      const status = res.writableFinished ? String(res.statusCode) : '499';
      ctx.metrics.requests.inc({ route, method: req.method ?? 'GET', status });
      ctx.metrics.duration.observe((performance.now() - t0) / 1000, { route });
    };
    res.on('finish', count);
    res.on('close', count);

    const fail = (err: unknown) => {
      if (!(err instanceof HttpError)) ctx.log(`error on ${req.method} ${pathname}: ${(err as Error)?.stack ?? err}`);
      ctx.metrics.errors.inc({ route, code: err instanceof HttpError ? err.code : 'internal_error' });
      const bodyUnread = !req.complete;
      sendError(res, err, bodyUnread);
      if (bodyUnread) discardRest(req);
    };

    const run = async () => {
      if (route === 'site') {
        if (ctx.site && ctx.site(req, res)) return;
        route = 'not-found';
        throw new HttpError(404, 'not_found', `nothing at ${pathname}`);
      }
      if (route === 'not-found') throw new HttpError(404, 'not_found', `no API route ${pathname}`);
      const method = API_METHODS[route]!;
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
          return monitoringRoute(res);
      }
    };
    run().catch(fail);
  };
}
