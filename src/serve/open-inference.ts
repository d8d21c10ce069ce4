import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { projectRoot } from '../storage/paths.js';
import { HttpError, sendJson } from './http-errors.js';
import { readBodyLimited } from './request-body.js';
import { prepareUpload } from './image-input.js';
import { Semaphore } from '../data/concurrency.js';
import { bodyBudgetCheck, checkDecodedPixels, type RequestBudget } from './request-budget.js';
import type { ViewShape } from '../data/whole-view.js';
import type { ModelHolder, ServingModel } from './model-holder.js';
import { outputTensors, parseInferRequest, tensorMetadata, type InferInput } from './open-inference-tensors.js';

/**
 * The Open Inference Protocol (KServe V2) REST routes: server metadata and health, model metadata and readiness,
 * and inference, for the one promoted model under a configurable name. The version is the registry version number
 * as a string; the unversioned routes use the promoted version. Errors are `{"error": "..."}`: 400 for a malformed
 * request, 404 for an unknown model or version, 503 while no model is ready.
 */
export interface OpenInferenceContext {
  holder: ModelHolder;
  modelName: string;
  maxBatch: number;
  /** Largest image file inside a request (the /api/predict upload limit). */
  maxImageBytes: number;
  /** Largest JSON body of an inference request. */
  maxBodyBytes: number;
  maxPixels: number;
  /** Bounds the image decodes running at once across all routes (their memory). */
  decodes: Semaphore;
  /** What one request may cost: decoded pixels and tensor elements. */
  budget: RequestBudget;
  /** One JSON body parsed at a time (a large one costs several times its size while it is parsed). */
  parses: Semaphore;
  /** Called once per answered image (metrics, monitoring); `photo` is the encoded file when one was sent. */
  onPrediction?: (p: { probability: number; decision: 'cat' | 'not-cat'; version: number; latencyMs: number; photo: Buffer | null }) => void;
}

export type OpenInferenceRoute =
  | { kind: 'server-metadata'; label: string }
  | { kind: 'live'; label: string }
  | { kind: 'ready'; label: string }
  | { kind: 'model-metadata' | 'model-ready' | 'infer'; label: string; name: string; version: string | null }
  | { kind: 'not-found'; label: string };

/** The protocol's routes: path template (the metrics label of `matchOpenInference`) -> the method it takes. */
export const OPEN_INFERENCE_ROUTES = {
  '/v2': 'GET',
  '/v2/health/live': 'GET',
  '/v2/health/ready': 'GET',
  '/v2/models/{name}': 'GET',
  '/v2/models/{name}/ready': 'GET',
  '/v2/models/{name}/infer': 'POST',
  '/v2/models/{name}/versions/{version}': 'GET',
  '/v2/models/{name}/versions/{version}/ready': 'GET',
  '/v2/models/{name}/versions/{version}/infer': 'POST',
} as const satisfies Record<string, 'GET' | 'POST'>;

/** Which protocol route a path under /v2 is (the label is the path template, for metrics). */
export function matchOpenInference(pathname: string): OpenInferenceRoute {
  if (pathname === '/v2' || pathname === '/v2/') return { kind: 'server-metadata', label: '/v2' };
  if (pathname === '/v2/health/live') return { kind: 'live', label: pathname };
  if (pathname === '/v2/health/ready') return { kind: 'ready', label: pathname };
  const m = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/ready|\/infer)?$/.exec(pathname);
  if (m) {
    let name: string;
    let version: string | null;
    try {
      name = decodeURIComponent(m[1]);
      version = m[2] === undefined ? null : decodeURIComponent(m[2]);
    } catch {
      return { kind: 'not-found', label: '/v2/not-found' };
    }
    const kind = m[3] === '/ready' ? 'model-ready' : m[3] === '/infer' ? 'infer' : 'model-metadata';
    const label = `/v2/models/{name}${version === null ? '' : '/versions/{version}'}${m[3] ?? ''}`;
    return { kind, label, name, version };
  }
  return { kind: 'not-found', label: '/v2/not-found' };
}

/** The HTTP method a route takes. */
export function openInferenceMethod(route: OpenInferenceRoute): 'GET' | 'POST' {
  return (OPEN_INFERENCE_ROUTES as Record<string, 'GET' | 'POST'>)[route.label] ?? 'GET';
}

let serverVersion: string | undefined;
/** The package version (the server version on /v2 and in the OpenAPI document). */
export function packageVersion(): string {
  if (serverVersion === undefined) {
    try {
      serverVersion = String((JSON.parse(fs.readFileSync(path.join(projectRoot(), 'package.json'), 'utf8')) as { version?: string }).version ?? '0');
    } catch {
      serverVersion = '0';
    }
  }
  return serverVersion;
}

const notFound = (message: string) => new HttpError(404, 'not_found', message);
const notReady = () => new HttpError(503, 'no_model', 'no model is ready (none promoted yet, or the promoted one failed to load)');

/** Answer a protocol error: `{"error": "..."}` with the error's status (unknown errors: 500 without internals). */
export function sendOpenInferenceError(res: ServerResponse, err: unknown, closeConnection = false): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const e = err instanceof HttpError ? err : new HttpError(500, 'internal_error', 'the server failed to handle the request');
  const headers: Record<string, string> = { ...e.headers };
  if (closeConnection) headers.connection = 'close';
  sendJson(res, e.status, { error: e.message }, headers);
}

/** Check the name (404), that a model is loaded (503) and the version (404); returns the model. */
function modelFor(ctx: OpenInferenceContext, route: { name: string; version: string | null }): ServingModel {
  if (route.name !== ctx.modelName) throw notFound(`unknown model "${route.name}" (this server serves "${ctx.modelName}")`);
  const model = ctx.holder.current;
  if (!model) throw notReady();
  checkVersion(model, route.version);
  return model;
}

function checkVersion(model: ServingModel, wanted: string | null): void {
  if (wanted !== null && wanted !== String(model.version)) {
    throw notFound(`unknown version "${wanted}" (the ready version is "${model.version}")`);
  }
}

function checkJsonContentType(req: IncomingMessage): void {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type)) return;
  throw new HttpError(415, 'unsupported_media_type', `send the inference request as application/json (got "${type || 'none'}")`);
}

async function readJson(req: IncomingMessage, limit: number, budget: RequestBudget, parses: Semaphore): Promise<unknown> {
  // Refused while it arrives, before parsing, when it holds more numbers than the budget allows; parsed one body at a time.
  const body = await readBodyLimited(req, limit, bodyBudgetCheck(budget));
  return parses.run(async () => {
    try {
      return JSON.parse(body.toString('utf8')) as unknown;
    } catch (err) {
      throw new HttpError(400, 'bad_json', `the body is not valid JSON: ${(err as Error).message}`);
    }
  });
}

/** One parse at a time per server (see OpenInferenceContext.parses). */
export function newParseSemaphore(): Semaphore {
  return new Semaphore(1);
}

/** Prepare encoded images like /api/predict does (same checks); their errors become 400s naming the element. */
async function preparedPixels(input: InferInput, model: ServingModel, maxPixels: number, decodes: Semaphore): Promise<Array<{ pixels: Uint8Array; view: ViewShape }>> {
  if (input.kind === 'pixels') return input.pixels.map((pixels) => ({ pixels, view: input.view }));
  const out: Array<{ pixels: Uint8Array; view: ViewShape }> = [];
  // One image at a time: a request's decode memory stays that of one image, whatever N is.
  for (let i = 0; i < input.files.length; i++) {
    try {
      out.push(await decodes.run(() => prepareUpload(input.files[i], model.imageSize, maxPixels, model.wholeView)));
    } catch (err) {
      if (err instanceof HttpError) throw new HttpError(400, err.code, `input "image"[${i}]: ${err.message}`);
      throw err;
    }
  }
  return out;
}

async function infer(ctx: OpenInferenceContext, route: { name: string; version: string | null }, req: IncomingMessage, res: ServerResponse, t0: number): Promise<void> {
  const first = modelFor(ctx, route);
  checkJsonContentType(req);
  const body = await readJson(req, ctx.maxBodyBytes, ctx.budget, ctx.parses);
  const request = parseInferRequest(body, { imageSize: first.imageSize, wholeView: first.wholeView ?? false, maxBatch: ctx.maxBatch, maxImageBytes: ctx.maxImageBytes, budget: ctx.budget });
  if (request.input.kind === 'images') await checkDecodedPixels(request.input.files, ctx.budget, ctx.maxPixels);
  const answer = await ctx.holder.use(async (model) => {
    checkVersion(model, route.version);
    if ((model.imageSize !== first.imageSize || Boolean(model.wholeView) !== Boolean(first.wholeView)) && request.input.kind === 'pixels') {
      throw new HttpError(503, 'model_changed', 'the model was swapped for one with another input; retry');
    }
    const prepared = await preparedPixels(request.input, model, ctx.maxPixels, ctx.decodes);
    const probabilities = await Promise.all(prepared.map((p) => model.predict(p.pixels, p.view)));
    return { model, probabilities };
  });
  if (!answer) throw notReady();
  const { model, probabilities } = answer;
  sendJson(res, 200, {
    model_name: ctx.modelName,
    model_version: String(model.version),
    id: request.id ?? randomUUID(),
    outputs: outputTensors(probabilities, model.threshold, request.outputs),
  });
  const latencyMs = Math.round((performance.now() - t0) * 100) / 100;
  probabilities.forEach((probability, i) =>
    ctx.onPrediction?.({
      probability,
      decision: probability >= model.threshold ? 'cat' : 'not-cat',
      version: model.version,
      latencyMs,
      photo: request.input.kind === 'images' ? request.input.files[i] : null,
    }),
  );
}

/** Handle one protocol route (method already checked). */
export async function handleOpenInference(ctx: OpenInferenceContext, route: OpenInferenceRoute, req: IncomingMessage, res: ServerResponse, t0: number): Promise<void> {
  switch (route.kind) {
    case 'server-metadata':
      return sendJson(res, 200, { name: 'areyouacat', version: packageVersion(), extensions: [] });
    case 'live':
      return sendJson(res, 200, { live: true });
    case 'ready': {
      const ready = ctx.holder.current !== null;
      return sendJson(res, ready ? 200 : 503, { ready });
    }
    case 'model-ready': {
      if (route.name !== ctx.modelName) throw notFound(`unknown model "${route.name}" (this server serves "${ctx.modelName}")`);
      const model = ctx.holder.current;
      if (model) checkVersion(model, route.version);
      return sendJson(res, model ? 200 : 503, { name: ctx.modelName, ready: model !== null });
    }
    case 'model-metadata': {
      const model = modelFor(ctx, route);
      return sendJson(res, 200, {
        name: ctx.modelName,
        versions: [String(model.version)],
        platform: 'tensorflowjs_layers',
        ...tensorMetadata(model.imageSize, model.wholeView ?? false),
      });
    }
    case 'infer':
      return infer(ctx, route, req, res, t0);
    case 'not-found':
      throw notFound(`no Open Inference Protocol route ${req.url?.split('?')[0]}`);
  }
}
