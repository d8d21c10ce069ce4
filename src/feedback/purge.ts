import type { S3Store } from '../storage/s3-client.js';
import type { FeedbackQueue } from './queue.js';

export interface PurgeOptions {
  store: S3Store;
  bucket: string;
  prefix: string;
  /** Delete feedback received more than this many days ago. */
  olderThanDays: number;
  /** Local queue: unsent items past retention are deleted too. */
  queue?: FeedbackQueue;
  now?: Date;
}

export interface PurgeResult {
  cutoffDay: string;
  deletedObjects: number;
  deletedQueued: number;
}

const DAY_IN_KEY = /(?:^|\/)(\d{4}-\d{2}-\d{2})\//;

/**
 * Retention: delete feedback photos and records whose day (in their key, set by the server) is before the cutoff,
 * i.e. everything received more than `olderThanDays` whole days ago. Keys without a day fall back to LastModified.
 */
export async function purgeFeedback(options: PurgeOptions): Promise<PurgeResult> {
  if (!(options.olderThanDays >= 0) || !Number.isFinite(options.olderThanDays)) {
    throw new Error(`retention must be a number of days >= 0 (got ${options.olderThanDays})`);
  }
  const now = options.now ?? new Date();
  const cutoff = new Date(now.getTime() - options.olderThanDays * 86_400_000);
  const cutoffDay = cutoff.toISOString().slice(0, 10);
  await options.store.ensureBucket(options.bucket);
  const objects = await options.store.listKeys(options.bucket, options.prefix);
  const doomed = objects
    .filter((o) => {
      const day = DAY_IN_KEY.exec(o.key.slice(options.prefix.length))?.[1];
      if (day) return day < cutoffDay;
      return o.lastModified !== undefined && o.lastModified < cutoff;
    })
    .map((o) => o.key);
  // Records before photos: a record never names a photo that is already gone.
  doomed.sort((a, b) => Number(b.includes('/records/')) - Number(a.includes('/records/')));
  await options.store.deleteObjects(options.bucket, doomed);

  let deletedQueued = 0;
  if (options.queue) {
    for (const id of await options.queue.ids()) {
      const day = `${id.slice(0, 4)}-${id.slice(4, 6)}-${id.slice(6, 8)}`;
      if (day < cutoffDay) {
        await options.queue.remove(id);
        deletedQueued++;
      }
    }
  }
  return { cutoffDay, deletedObjects: doomed.length, deletedQueued };
}
