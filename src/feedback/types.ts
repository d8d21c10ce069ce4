import type { PropertyValues } from '../validation/types.js';

export const FEEDBACK_SCHEMA = 1;

export type Answer = 'cat' | 'not-cat';

/**
 * One feedback item as stored in S3 at `<prefix>records/<YYYY-MM-DD>/<id>.json`, next to its photo at
 * `<prefix>photos/<YYYY-MM-DD>/<id>.jpg` (re-encoded JPEG without EXIF/GPS). Keys are made by the server only.
 */
export interface FeedbackRecord {
  schema: typeof FEEDBACK_SCHEMA;
  id: string;
  /** ISO 8601 UTC when the server received it. */
  time: string;
  /** What the user was shown. */
  prediction: {
    decision: Answer;
    /** p(cat) shown, when the client sent it. */
    probability: number | null;
    /** Model version that made the prediction, when the client sent it. */
    modelVersion: number | null;
  };
  /** The user's answer: is it really a cat? */
  answer: Answer;
  /** Model version the server was serving when the feedback arrived. */
  servedVersion: number | null;
  consent: true;
  /** Same photo, answer and prediction give the same key: a replay within the window is not stored again. */
  replayKey?: string;
  photoKey: string;
  recordKey: string;
  image: {
    format: 'jpeg';
    bytes: number;
    width: number;
    height: number;
    /** Measured with the validation's image properties (for drift monitoring); null when not measurable. */
    properties: PropertyValues | null;
  };
}

/** A queued item: the record and its photo, in one file so that it is written atomically. */
export interface QueuedFeedback {
  record: FeedbackRecord;
  photoBase64: string;
  enqueuedAt: string;
}

export const DEFAULT_FEEDBACK_PREFIX = 'feedback/';
export const DEFAULT_BUCKET = 'areyouacat';
export const DEFAULT_RETENTION_DAYS = 90;

/** Day folder of an ISO time: `2026-11-26`. */
export function dayOf(isoTime: string): string {
  return isoTime.slice(0, 10);
}

export function feedbackKeys(prefix: string, id: string, isoTime: string): { photoKey: string; recordKey: string } {
  const day = dayOf(isoTime);
  return { photoKey: `${prefix}photos/${day}/${id}.jpg`, recordKey: `${prefix}records/${day}/${id}.json` };
}

/** What POST /api/predict answers (the feedback form sends part of it back). */
export interface PredictResponse {
  probability: number;
  decision: Answer;
  isCat: boolean;
  threshold: number;
  modelVersion: number;
  latencyMs: number;
}

/**
 * What POST /api/feedback answers: 201 'stored' (in S3 now) or 202 'queued' (safe on disk, uploaded later); a replay
 * of feedback accepted within the replay window gets 200 with the first receipt's id and `replay: true`.
 */
export interface FeedbackReceipt {
  id: string;
  status: 'stored' | 'queued';
  replay?: true;
}
