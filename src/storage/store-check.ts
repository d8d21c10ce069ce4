import { S3UnavailableError, S3Store } from './s3-client.js';
import { s3ConfigFromEnv } from './s3-config.js';

/** A configured store (S3, Redis) that a command cannot use: said before its first step, with the fix. */
export class StoreCheckError extends Error {
  constructor(
    readonly store: 's3' | 'redis',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreCheckError';
  }
}

/**
 * The S3 bucket a command will write to, made ready before any work: a missing bucket is created, as feedback
 * storage and `registry publish` do (one rule for the whole project: the bucket the project is configured with
 * is its own). S3 that cannot be reached, or that refuses the keys or the bucket, stops the command now with
 * what to fix, instead of a minute and a half in.
 */
export async function checkS3Bucket(store: S3Store, bucket: string, purpose: string): Promise<void> {
  try {
    await store.ensureBucket(bucket);
  } catch (err) {
    const m = (err as Error).message;
    const fix =
      err instanceof S3UnavailableError
        ? `start it, or point AREYOUACAT_S3_ENDPOINT at a running S3`
        : /access denied/i.test(m)
          ? `check AREYOUACAT_S3_ACCESS_KEY_ID and AREYOUACAT_S3_SECRET_ACCESS_KEY`
          : `create the bucket, or set AREYOUACAT_S3_BUCKET to one these keys may use`;
    throw new StoreCheckError('s3', `S3 bucket s3://${bucket} (${purpose}) cannot be used: ${m}; ${fix}`, { cause: err });
  }
}

/**
 * Every store this process is configured with, checked before the first step: the job queue's Redis (when a
 * queue URL is given) and the S3 bucket of AREYOUACAT_S3_* (when a bucket is set). `checkRedis` is the queue's own
 * reachability check (injected so that storage does not depend on the job queue).
 */
export async function checkConfiguredStores(options: {
  queueUrl?: string;
  checkRedis?: (url: string) => Promise<void>;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}): Promise<void> {
  const env = options.env ?? process.env;
  if (options.queueUrl && options.checkRedis) {
    try {
      await options.checkRedis(options.queueUrl);
    } catch (err) {
      throw new StoreCheckError(
        'redis',
        `${(err as Error).message}; start Redis there (e.g. redis-server --port 6379), or run without --queue (and AREYOUACAT_QUEUE_URL) to use the local pool`,
        { cause: err },
      );
    }
  }
  if (env.AREYOUACAT_S3_BUCKET) {
    const timeoutMs = options.timeoutMs ?? 5000;
    const store = new S3Store(s3ConfigFromEnv(env), { connectTimeoutMs: Math.min(2000, timeoutMs), requestTimeoutMs: timeoutMs, maxAttempts: 1 });
    try {
      await checkS3Bucket(store, store.defaultBucket(), 'the shared cache of pipeline jobs');
    } finally {
      store.close();
    }
  }
}
