import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startLocalS3 } from '../../src/storage/local-s3.js';
import { S3Store } from '../../src/storage/s3-client.js';

export interface TestS3 {
  /** 'rgw' when AREYOUACAT_TEST_S3_ENDPOINT points at a real server (e.g. scripts/rgw.sh), else 's3rver'. */
  kind: 'rgw' | 's3rver';
  endpoint: string;
  /** A fresh, already created bucket of this test's own. */
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** A store configured for this server. */
  store: S3Store;
  /** Deletes the bucket's objects on a shared server; stops the in-process one. */
  stop(): Promise<void>;
}

let counter = 0;

/** The AREYOUACAT_S3_* settings that point the project at this test S3 (for process.env or a child's env). */
export function s3Env(s3: TestS3): Record<string, string> {
  return {
    AREYOUACAT_S3_ENDPOINT: s3.endpoint,
    AREYOUACAT_S3_BUCKET: s3.bucket,
    AREYOUACAT_S3_ACCESS_KEY_ID: s3.accessKeyId,
    AREYOUACAT_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    AREYOUACAT_S3_REGION: s3.region,
  };
}

/** A bucket name nobody else uses: tests running in parallel against one RGW must not meet. */
export function freshBucketName(tag = 'test'): string {
  const rand = crypto.randomBytes(4).toString('hex');
  return `ayac-${tag}-${process.pid}-${++counter}-${rand}`.toLowerCase().slice(0, 63);
}

/**
 * An S3 server for one test: the real one named by AREYOUACAT_TEST_S3_ENDPOINT (+ _ACCESS_KEY_ID,
 * _SECRET_ACCESS_KEY, optional _REGION) when set, else s3rver (in its own process) on a free port in a temp dir.
 */
export async function startTestS3(tag = 'test'): Promise<TestS3> {
  const bucket = freshBucketName(tag);
  const env = process.env;
  if (env.AREYOUACAT_TEST_S3_ENDPOINT) {
    const accessKeyId = env.AREYOUACAT_TEST_S3_ACCESS_KEY_ID;
    const secretAccessKey = env.AREYOUACAT_TEST_S3_SECRET_ACCESS_KEY;
    if (!accessKeyId || !secretAccessKey) {
      throw new Error('AREYOUACAT_TEST_S3_ENDPOINT is set but AREYOUACAT_TEST_S3_ACCESS_KEY_ID/_SECRET_ACCESS_KEY are not');
    }
    const region = env.AREYOUACAT_TEST_S3_REGION || 'us-east-1';
    const endpoint = env.AREYOUACAT_TEST_S3_ENDPOINT;
    const store = new S3Store({ endpoint, accessKeyId, secretAccessKey, region });
    await store.ensureBucket(bucket);
    return {
      kind: 'rgw',
      endpoint,
      bucket,
      accessKeyId,
      secretAccessKey,
      region,
      store,
      async stop() {
        try {
          const keys = (await store.listKeys(bucket)).map((o) => o.key);
          await store.deleteObjects(bucket, keys);
          await store.client.send(new (await import('@aws-sdk/client-s3')).DeleteBucketCommand({ Bucket: bucket }));
        } finally {
          store.close();
        }
      },
    };
  }
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-s3rver-'));
  const local = await startLocalS3({ dir });
  const store = new S3Store({
    endpoint: local.endpoint,
    accessKeyId: local.accessKeyId,
    secretAccessKey: local.secretAccessKey,
    region: local.region,
  });
  await store.ensureBucket(bucket);
  return {
    kind: 's3rver',
    endpoint: local.endpoint,
    bucket,
    accessKeyId: local.accessKeyId,
    secretAccessKey: local.secretAccessKey,
    region: local.region,
    store,
    async stop() {
      store.close();
      await local.stop();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
