import crypto from 'node:crypto';
import { measureProperties } from '../monitoring/measure.js';
import type { JsonlAppender } from '../monitoring/event-log.js';
import { HttpError } from './http-errors.js';
import { reencodePhoto } from './feedback-photo.js';
import type { FeedbackQueue } from './feedback-queue.js';
import type { FeedbackUploader } from './feedback-uploader.js';
import { FEEDBACK_SCHEMA, feedbackKeys, type Answer, type FeedbackRecord } from './feedback-types.js';

export interface FeedbackFields {
  consent?: string;
  answer?: string;
  prediction?: string;
  probability?: string;
  modelVersion?: string;
}

export interface FeedbackServiceOptions {
  queue: FeedbackQueue;
  uploader: FeedbackUploader;
  /** Key prefix in the bucket, e.g. `feedback/`. */
  prefix: string;
  maxPixels: number;
  /** Monitoring log the record (without the photo) is appended to. */
  log?: JsonlAppender;
  now?: () => Date;
}

export interface FeedbackResult {
  id: string;
  /** 'stored': in S3 now; 'queued': safe on local disk, uploaded when S3 answers again. */
  status: 'stored' | 'queued';
  record: FeedbackRecord;
}

function parseAnswer(value: string | undefined, field: string): Answer {
  const v = (value ?? '').trim().toLowerCase();
  if (v === 'cat' || v === 'not-cat') return v;
  throw new HttpError(400, `invalid_${field}`, `"${field}" must be "cat" or "not-cat"`);
}

function optionalNumber(value: string | undefined, field: string, check: (x: number) => boolean): number | null {
  if (value === undefined || value.trim() === '') return null;
  const x = Number(value);
  if (!Number.isFinite(x) || !check(x)) throw new HttpError(400, `invalid_${field}`, `"${field}" is out of range`);
  return x;
}

/** Time-sortable id: `20261126T230501123Z-<16 hex>`; never taken from the client. */
export function newFeedbackId(now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('.', '');
  return `${stamp}-${crypto.randomBytes(8).toString('hex')}`;
}

/** Check the form before touching the photo: without explicit consent nothing is processed or kept. */
export function checkFeedbackFields(fields: FeedbackFields): void {
  if ((fields.consent ?? '').trim().toLowerCase() !== 'true') {
    throw new HttpError(400, 'consent_required', 'feedback is stored only with explicit consent: send consent=true');
  }
  parseAnswer(fields.answer, 'answer');
  parseAnswer(fields.prediction, 'prediction');
}

/**
 * Accept one feedback item: re-encode the photo without metadata, measure its properties, write it to the durable
 * local queue (fsynced) and then try S3 at once unless the uploader is backing off after a failure.
 */
export async function acceptFeedback(
  options: FeedbackServiceOptions,
  photo: Buffer,
  fields: FeedbackFields,
  servedVersion: number | null,
): Promise<FeedbackResult> {
  checkFeedbackFields(fields);
  const answer = parseAnswer(fields.answer, 'answer');
  const decision = parseAnswer(fields.prediction, 'prediction');
  const probability = optionalNumber(fields.probability, 'probability', (x) => x >= 0 && x <= 1);
  const modelVersion = optionalNumber(fields.modelVersion, 'modelVersion', (x) => Number.isInteger(x) && x >= 0);

  const clean = await reencodePhoto(photo, options.maxPixels);
  // Properties of the photo as uploaded (after the checks above), like the training images were measured.
  const properties = await measureProperties(photo);

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
    photoKey,
    recordKey,
    image: { format: 'jpeg', bytes: clean.data.length, width: clean.width, height: clean.height, properties },
  };
  await options.queue.add({ record, photoBase64: clean.data.toString('base64'), enqueuedAt: time });
  options.log?.append('feedback', record);
  const stored = !options.uploader.backingOff && (await options.uploader.uploadOne(id));
  return { id, status: stored ? 'stored' : 'queued', record };
}
