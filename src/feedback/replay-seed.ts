import type { S3Store } from '../storage/s3-client.js';
import { timeSortableId } from '../storage/ids.js';
import type { FeedbackQueue } from './queue.js';
import { replayOf, type FeedbackReplays } from './replays.js';
import { dayOf, FEATURE_RECORDS_FOLDER, type FeatureFeedbackRecord, type FeedbackRecord } from './types.js';

export interface ReplaySeedSource {
  queue: FeedbackQueue;
  store: S3Store;
  bucket: string;
  prefix: string;
  now?: () => number;
}

/** The receipt a seeded key answers with (the uploader's state decides 'queued' or 'stored' at replay time). */
export interface SeededReceipt {
  id: string;
  status: 'stored' | 'queued';
  record: FeedbackRecord | FeatureFeedbackRecord;
}

/** Ids made at or after `at` (ids sort like their times). */
function idCutoff(at: number): string {
  return timeSortableId(new Date(at), 1).slice(0, 19);
}

/**
 * Feedback still queued on disk whose record is within the replay window: remembered again after a restart.
 * Cheap (local files only), so the server does it before it accepts requests.
 */
export async function seedReplaysFromQueue<T extends SeededReceipt>(replays: FeedbackReplays<T>, source: ReplaySeedSource): Promise<number> {
  const cutoff = idCutoff((source.now ?? Date.now)() - replays.windowMs);
  let seeded = 0;
  for (const id of await source.queue.ids()) {
    if (id < cutoff) continue;
    const item = await source.queue.get(id).catch(() => undefined);
    const replay = item && replayOf(item.record);
    if (!item || !replay) continue;
    replays.seed(replay.key, replay.at, { id, status: 'queued', record: item.record } as T);
    seeded++;
  }
  return seeded;
}

/**
 * Feedback records in S3 (photo and feature records) within the replay window (the day folders it spans, ids after its start): remembered
 * again after a restart. Reads one small record per item of the last window, so the server runs it in the
 * background; an unreachable S3 only means replays of older feedback are not recognised.
 */
export async function seedReplaysFromS3<T extends SeededReceipt>(replays: FeedbackReplays<T>, source: ReplaySeedSource): Promise<number> {
  const now = (source.now ?? Date.now)();
  const start = now - replays.windowMs;
  const cutoff = idCutoff(start);
  const days = [...new Set([dayOf(new Date(start).toISOString()), dayOf(new Date(now).toISOString())])];
  let seeded = 0;
  for (const folder of days.flatMap((day) => [`${source.prefix}records/${day}/`, `${source.prefix}${FEATURE_RECORDS_FOLDER}${day}/`])) {
    for (const { key } of await source.store.listKeys(source.bucket, folder)) {
      const id = key.slice(folder.length).replace(/\.json$/, '');
      if (id < cutoff || key.includes('/', folder.length)) continue;
      let record: FeedbackRecord | FeatureFeedbackRecord;
      try {
        record = JSON.parse((await source.store.getObject(source.bucket, key)).toString('utf8')) as FeedbackRecord | FeatureFeedbackRecord;
      } catch {
        continue; // unreadable record: nothing to remember
      }
      const replay = replayOf(record);
      if (!replay) continue;
      replays.seed(replay.key, replay.at, { id: record.id, status: 'stored', record } as T);
      seeded++;
    }
  }
  return seeded;
}
