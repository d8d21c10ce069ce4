import { timeSortableId } from '../storage/ids.js';
import { measureProperties } from '../monitoring/measure.js';
import type { JsonlAppender } from '../monitoring/event-log.js';
import { reencodePhoto, type CleanPhoto } from '../feedback/photo.js';
import type { FeedbackQueue } from '../feedback/queue.js';
import type { FeedbackUploader } from '../feedback/uploader.js';
import { FEEDBACK_SCHEMA, featureFeedbackKey, feedbackKeys, type FeatureFeedbackRecord, type FeedbackRecord } from '../feedback/types.js';
import { clientHash, featureRecordFields } from '../feedback/feature-record.js';
import type { PhotoFeatureViews } from '../model/photo-features.js';
import { isImageDecodeError } from '../data/errors.js';
import { FeedbackFormError, checkFeedbackFields, parseFeedbackFields, type FeedbackFields, type FeedbackForm } from '../feedback/form.js';
import { feedbackReplayKey, type FeedbackReplays } from '../feedback/replays.js';
import type { Semaphore } from '../data/concurrency.js';
import { HttpError } from './http-errors.js';
import { imageError, sniffImageFormat } from './image-input.js';

export interface FeedbackServiceOptions {
  queue: FeedbackQueue;
  uploader: FeedbackUploader;
  /** Key prefix in the bucket, e.g. `feedback/`. */
  prefix: string;
  maxPixels: number;
  /** Bound on image decodes at once, shared with prediction (the photo is re-encoded and measured under it). */
  decodes?: Semaphore;
  /** Replays of feedback accepted within the window get the first receipt and are not stored again. */
  replays?: FeedbackReplays<FeedbackResult>;
  /** Monitoring log the record (without the photo) is appended to. */
  log?: JsonlAppender;
  /** The deployment's secret the client hash is salted with (`feedbackClientSalt`). */
  clientSalt: string;
  now?: () => Date;
}

export interface FeedbackResult {
  id: string;
  /** 'stored': in S3 now; 'queued': safe on local disk, uploaded when S3 answers again. */
  status: 'stored' | 'queued';
  record: FeedbackRecord | FeatureFeedbackRecord;
  /** True when this was a replay of feedback accepted earlier: nothing new was stored. */
  replay?: boolean;
}

/** A form that breaks the feedback contract becomes a 400 with the rule's code. */
function asHttpError(err: unknown): unknown {
  return err instanceof FeedbackFormError ? new HttpError(400, err.code, err.message) : err;
}

/** Check the form fields (consent, answers) before the photo is read; a broken form is a 400. */
export function checkFeedbackForm(fields: FeedbackFields): void {
  try {
    checkFeedbackFields(fields);
  } catch (err) {
    throw asHttpError(err);
  }
}

/** The uploaded photo re-encoded without metadata; an empty file, a non-image or an undecodable one is a 4xx. */
async function cleanPhoto(photo: Buffer, maxPixels: number): Promise<CleanPhoto> {
  if (photo.length === 0) throw new HttpError(400, 'empty_photo', 'the photo is empty');
  if (!sniffImageFormat(photo)) throw new HttpError(415, 'not_an_image', 'the photo is not a JPEG, PNG, WebP or GIF image');
  try {
    return await reencodePhoto(photo, maxPixels);
  } catch (err) {
    throw imageError(err, maxPixels);
  }
}

/** What the request brings besides the form: who sent it (for a hash) and, for `store=features`, the served model's features. */
export interface FeedbackRequestContext {
  /** The client's address as the rate limiter sees it; only its hash is kept. */
  client?: string;
  /**
   * The served model's backbone features of the photo in every training view, with the version that computed
   * them; it rejects with an HttpError when the model has none (or no model is loaded).
   */
  features?: (photo: Buffer) => Promise<{ features: PhotoFeatureViews; version: number }>;
}

/** Time-sortable id: `20261126T230501123Z-<16 hex>`; never taken from the client. */
export function newFeedbackId(now: Date): string {
  return timeSortableId(now, 8);
}

/**
 * Accept one feedback item: re-encode the photo without metadata and measure its properties (under the decode
 * bound), write it to the durable local queue (fsynced), then hand it to the uploader, which sends it at once when
 * S3 is available and waits for that only a short time (the item is safe on disk either way). A replay of feedback
 * accepted within the replay window answers with the first one's id and stores nothing.
 */
export async function acceptFeedback(
  options: FeedbackServiceOptions,
  photo: Buffer,
  fields: FeedbackFields,
  servedVersion: number | null,
  request: FeedbackRequestContext = {},
): Promise<FeedbackResult> {
  let form;
  try {
    form = parseFeedbackFields(fields);
  } catch (err) {
    throw asHttpError(err);
  }
  const checked = form;
  const replays = options.replays;
  const store = (replayKey: string | null) =>
    checked.store === 'features' ? storeFeatureFeedback(options, photo, checked, replayKey, request) : storeFeedback(options, photo, checked, replayKey, servedVersion, request);
  if (!replays) return store(null);
  const key = feedbackReplayKey(photo, checked, options.clientSalt);
  const { result, replay } = await replays.once(key, () => store(key));
  if (!replay) return result;
  return { ...result, status: (await options.queue.has(result.id)) ? 'queued' : 'stored', replay: true };
}

async function storeFeedback(
  options: FeedbackServiceOptions,
  photo: Buffer,
  form: FeedbackForm,
  replayKey: string | null,
  servedVersion: number | null,
  request: FeedbackRequestContext,
): Promise<FeedbackResult> {
  const { answer, decision, probability, modelVersion } = form;
  const decode = async () => {
    const clean = await cleanPhoto(photo, options.maxPixels);
    // Properties of the photo as uploaded (after the checks above), like the training images were measured.
    return { clean, properties: await measureProperties(photo) };
  };
  const { clean, properties } = options.decodes ? await options.decodes.run(decode) : await decode();

  const now = (options.now ?? (() => new Date()))();
  const time = now.toISOString();
  const id = newFeedbackId(now);
  const { photoKey, recordKey } = feedbackKeys(options.prefix, id, time);
  const record: FeedbackRecord = {
    schema: FEEDBACK_SCHEMA,
    id,
    time,
    prediction: { decision, probability, modelVersion },
    answer,
    servedVersion,
    consent: true,
    ...(replayKey ? { replayKey } : {}),
    ...(request.client !== undefined ? { clientHash: clientHash(request.client, options.clientSalt) } : {}),
    photoKey,
    recordKey,
    image: { format: 'jpeg', bytes: clean.data.length, width: clean.width, height: clean.height, properties },
  };
  await options.queue.add({ record, photoBase64: clean.data.toString('base64'), enqueuedAt: time });
  options.log?.append('feedback', record);
  const stored = await options.uploader.submit(id);
  return { id, status: stored ? 'stored' : 'queued', record };
}

/**
 * Accept a "use my answer, do not keep my photo" item: the served model computes the photo's backbone features in
 * every training view (in an inference worker), and only those numbers, the answer, the model version, the
 * backbone identity, the time and hashes (of the features and of the client) are queued and uploaded. The photo
 * bytes go nowhere: not to the queue, S3, the monitoring log or the server log.
 */
async function storeFeatureFeedback(
  options: FeedbackServiceOptions,
  photo: Buffer,
  form: FeedbackForm,
  replayKey: string | null,
  request: FeedbackRequestContext,
): Promise<FeedbackResult> {
  if (photo.length === 0) throw new HttpError(400, 'empty_photo', 'the photo is empty');
  if (!sniffImageFormat(photo)) throw new HttpError(415, 'not_an_image', 'the photo is not a JPEG, PNG, WebP or GIF image');
  if (!request.features) throw new HttpError(503, 'features_unavailable', 'this server cannot compute features for feedback; send store=photo');
  let computed;
  try {
    computed = await request.features(photo);
  } catch (err) {
    throw isImageDecodeError(err) ? imageError(err, options.maxPixels) : err;
  }
  const { features, version } = computed;
  const now = (options.now ?? (() => new Date()))();
  const time = now.toISOString();
  const id = newFeedbackId(now);
  const { answer, decision, probability, modelVersion } = form;
  const record: FeatureFeedbackRecord = {
    schema: FEEDBACK_SCHEMA,
    kind: 'features',
    id,
    time,
    prediction: { decision, probability, modelVersion },
    answer,
    servedVersion: version,
    consent: true,
    ...(replayKey ? { replayKey } : {}),
    ...(request.client !== undefined ? { clientHash: clientHash(request.client, options.clientSalt) } : {}),
    recordKey: featureFeedbackKey(options.prefix, id, time),
    features: featureRecordFields(features),
  };
  await options.queue.add({ record, enqueuedAt: time });
  // The monitoring log gets what the answer says about the model, not the numbers.
  options.log?.append('feedback', { ...record, features: { backbone: features.backbone, recipe: features.recipe, hash: record.features.hash } });
  const stored = await options.uploader.submit(id);
  return { id, status: stored ? 'stored' : 'queued', record };
}
