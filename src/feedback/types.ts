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
  /** Hash of the client's address (never the address itself), for the per-client cap of a fine-tune. */
  clientHash?: string;
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

/**
 * A "use my answer, do not keep my photo" item (`store=features`), stored in S3 at
 * `<prefix>features/<YYYY-MM-DD>/<id>.json` and nothing else: the backbone features of the photo in every training
 * view, the answer, the model version and the backbone identity with its feature recipe version. No photo bytes.
 */
export interface FeatureFeedbackRecord {
  schema: typeof FEEDBACK_SCHEMA;
  kind: 'features';
  id: string;
  /** ISO 8601 UTC when the server received it. */
  time: string;
  prediction: FeedbackRecord['prediction'];
  answer: Answer;
  /** Model version the server was serving (the one that computed the features). */
  servedVersion: number | null;
  consent: true;
  replayKey?: string;
  /** Hash of the client's address (never the address itself), for the per-client cap of a fine-tune. */
  clientHash?: string;
  recordKey: string;
  features: {
    /** Backbone identity (`BACKBONE_ID`) and feature recipe version (`FEATURE_RECIPE_VERSION`) that made them. */
    backbone: string;
    recipe: number;
    imageSize: number;
    /** View names (`plain`, `mirrored`), in the order of `values`. */
    views: string[];
    /** One row of numbers per view. */
    values: number[][];
    /** SHA-256 of the plain view's numbers (rounded): the same photo answered twice has the same hash. */
    hash: string;
  };
}

/** A queued photo item: the record and its photo, in one file so that it is written atomically. */
export interface QueuedPhotoFeedback {
  record: FeedbackRecord;
  photoBase64: string;
  enqueuedAt: string;
}

/** A queued features item: the record alone (there is no photo). */
export interface QueuedFeatureFeedback {
  record: FeatureFeedbackRecord;
  enqueuedAt: string;
}

export type QueuedFeedback = QueuedPhotoFeedback | QueuedFeatureFeedback;

export function isQueuedPhoto(item: QueuedFeedback): item is QueuedPhotoFeedback {
  return (item.record as Partial<FeatureFeedbackRecord>).kind !== 'features' && typeof (item as Partial<QueuedPhotoFeedback>).photoBase64 === 'string';
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

/** Folder of the feature records under the feedback prefix (next to `photos/` and `records/`). */
export const FEATURE_RECORDS_FOLDER = 'features/';

/** Key of a feature record: `<prefix>features/<YYYY-MM-DD>/<id>.json`. */
export function featureFeedbackKey(prefix: string, id: string, isoTime: string): string {
  return `${prefix}${FEATURE_RECORDS_FOLDER}${dayOf(isoTime)}/${id}.json`;
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
