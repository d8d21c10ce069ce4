import { S3Store } from '../storage/s3-client.js';
import { startLocalS3, type LocalS3 } from '../storage/local-s3.js';
import { S3_ENV } from '../storage/s3-config.js';
import type { Log } from '../progress/index.js';
import { DEFAULT_BUCKET, DEFAULT_RETENTION_DAYS } from './types.js';

export const RETENTION_ENV = 'AREYOUACAT_FEEDBACK_RETENTION_DAYS';

/** Days feedback is kept: AREYOUACAT_FEEDBACK_RETENTION_DAYS, else 90. */
export function retentionDaysFromEnv(env: Record<string, string | undefined> = process.env): number {
  const raw = env[RETENTION_ENV];
  if (raw === undefined || raw === '') return DEFAULT_RETENTION_DAYS;
  const days = Number(raw);
  if (!Number.isFinite(days) || days < 0) throw new Error(`${RETENTION_ENV} must be a number of days >= 0 (got "${raw}")`);
  return days;
}

export interface FeedbackStorage {
  store: S3Store;
  bucket: string;
  /** Set when no endpoint is configured and a local S3 server process was started (stop it when done). */
  localS3: LocalS3 | null;
}

/**
 * Where feedback lives: the S3 named by AREYOUACAT_S3_* when an endpoint is set (bucket AREYOUACAT_S3_BUCKET or
 * `areyouacat`), else a local S3 server in a child process on loopback over the data folder's `s3/` directory, so
 * that feedback works with no setup (for production, set the endpoint). The keys never leave the server process.
 */
export async function openFeedbackStorage(log: Log = () => undefined): Promise<FeedbackStorage> {
  const bucket = process.env[S3_ENV.bucket] || DEFAULT_BUCKET;
  // Short timeouts: a stalled S3 fails an upload in seconds, so the uploader backs off (requests never wait for
  // this: they wait a shorter time, see the uploader's waitMs, and their items stay queued on disk).
  const timeouts = { connectTimeoutMs: 2000, requestTimeoutMs: 10_000, maxAttempts: 2 };
  if (process.env[S3_ENV.endpoint]) return { store: S3Store.fromEnv({ bucket }, timeouts), bucket, localS3: null };
  const localS3 = await startLocalS3({ buckets: [bucket], log });
  log(`no ${S3_ENV.endpoint} set: feedback goes to a local S3 at ${localS3.endpoint} (files under ${localS3.dir})`);
  const store = new S3Store({
    endpoint: localS3.endpoint,
    bucket,
    accessKeyId: localS3.accessKeyId,
    secretAccessKey: localS3.secretAccessKey,
    region: localS3.region,
  }, timeouts);
  return { store, bucket, localS3 };
}
