import { FEEDBACK_FORM, PREDICT_ROUTE, type FeedbackStore } from './form.js';
import type { Answer, FeedbackReceipt, PredictResponse } from './types.js';

/** A photo to send: its bytes and their media type (`image/jpeg`, `image/png`, `image/webp`, `image/gif`). */
export interface PhotoUpload {
  data: Uint8Array | Blob;
  type?: string;
}

/** One feedback answer on a prediction the server made. */
export interface FeedbackItem {
  photo: PhotoUpload;
  /** The user's answer: is it really a cat? */
  answer: Answer;
  /** What the model said (the predict answer, or its decision alone). */
  prediction: Pick<PredictResponse, 'decision'> & Partial<Pick<PredictResponse, 'probability' | 'modelVersion'>>;
  /** Feedback is stored only with explicit consent. */
  consent: boolean;
  /**
   * What the server may keep: `photo` (the re-encoded photo and the answer; the default) or `features` (only the
   * numbers the model computes from the photo, the answer and the model version; the photo is not kept).
   */
  store?: FeedbackStore;
}

export interface ClientOptions {
  /** Another fetch (tests, proxies); default the global one (Node 20, browsers). */
  fetch?: typeof fetch;
  /** How long one request may take, answer included, before it fails (default 30 s). */
  timeoutMs?: number;
}

export const DEFAULT_CLIENT_TIMEOUT_MS = 30_000;

/** fetch with the client's bound: a server that never answers fails the call after `timeoutMs`, with the URL in the message. */
async function send(target: string, init: RequestInit, options: ClientOptions): Promise<Response> {
  const ms = options.timeoutMs ?? DEFAULT_CLIENT_TIMEOUT_MS;
  try {
    return await (options.fetch ?? fetch)(target, { ...init, signal: AbortSignal.timeout(ms) });
  } catch (err) {
    if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
      throw new ServingApiError(0, 'timeout', `${init.method ?? 'GET'} ${target} did not answer within ${ms} ms`);
    }
    throw err;
  }
}

/** The server refused a request: the HTTP status and the error code of its JSON answer. */
export class ServingApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ServingApiError';
  }
}

function url(baseUrl: string, route: string): string {
  return `${baseUrl.replace(/\/+$/, '')}${route}`;
}

function blobOf(photo: PhotoUpload): Blob {
  if (photo.data instanceof Blob) return photo.data;
  // A copy, so that the bytes are backed by a plain ArrayBuffer whatever the view was made of.
  return new Blob([new Uint8Array(photo.data)], { type: photo.type ?? 'image/jpeg' });
}

async function answerOf<T>(res: Response, what: string): Promise<T> {
  const text = await res.text();
  if (!res.ok) {
    let code = 'http_error';
    let message = text;
    try {
      const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
      code = body.error?.code ?? code;
      message = body.error?.message ?? message;
    } catch {
      // not JSON: the text is the message
    }
    throw new ServingApiError(res.status, code, `${what} answered ${res.status}: ${message}`);
  }
  return JSON.parse(text) as T;
}

/** POST the photo to the server's prediction API as a raw image body. */
export async function predict(baseUrl: string, photo: PhotoUpload, options: ClientOptions = {}): Promise<PredictResponse> {
  const body = blobOf(photo);
  const res = await send(url(baseUrl, PREDICT_ROUTE), {
    method: 'POST',
    headers: { 'content-type': body.type || 'image/jpeg' },
    body,
  }, options);
  return answerOf<PredictResponse>(res, 'predict');
}

/** The multipart form of one feedback item, with the contract's field names. */
export function feedbackFormData(item: FeedbackItem): FormData {
  const f = FEEDBACK_FORM.fields;
  const form = new FormData();
  form.append(f.photo, blobOf(item.photo), 'photo');
  if (item.consent) form.append(f.consent, FEEDBACK_FORM.consent);
  form.append(f.answer, item.answer);
  form.append(f.prediction, item.prediction.decision);
  if (item.prediction.probability != null) form.append(f.probability, String(item.prediction.probability));
  if (item.prediction.modelVersion != null) form.append(f.modelVersion, String(item.prediction.modelVersion));
  if (item.store) form.append(f.store, item.store);
  return form;
}

/** POST one feedback answer; the receipt says whether it is in S3 already ('stored') or queued on the server's disk. */
export async function sendFeedback(baseUrl: string, item: FeedbackItem, options: ClientOptions = {}): Promise<FeedbackReceipt> {
  const res = await send(url(baseUrl, FEEDBACK_FORM.route), { method: 'POST', body: feedbackFormData(item) }, options);
  return answerOf<FeedbackReceipt>(res, 'feedback');
}
