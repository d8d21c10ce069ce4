import {
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { normalizeS3Config, s3ConfigFromEnv, type S3Config } from './s3-config.js';

export interface S3ObjectInfo {
  key: string;
  size: number;
  etag?: string;
  contentType?: string;
  lastModified?: Date;
}

export interface S3ClientOptions {
  /** Milliseconds to open a TCP connection before giving up (default 2000). */
  connectTimeoutMs?: number;
  /**
   * Milliseconds one attempt may take until the response starts, and a socket may stay silent after that
   * (default 60000). Enforced: a stalled server fails the attempt with a timeout error.
   */
  requestTimeoutMs?: number;
  /** Total attempts per request, first one included (default 3). */
  maxAttempts?: number;
}

/** The AWS SDK's switch for its Node-version warning. */
const SDK_NODE_WARNING_ENV = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';

/**
 * The SDK warns on every start under Node 20 that its releases after the first week of January 2027 will require
 * Node 22. This project supports Node 20.19+ and pins the SDK release it installs (package.json gives an exact
 * version, so no such release is installed by accident), so on Node 20 the warning says nothing that applies: it is
 * turned off here, unless the user set the SDK's switch themselves.
 */
function quietSdkNodeWarning(): void {
  if (!process.env[SDK_NODE_WARNING_ENV]) process.env[SDK_NODE_WARNING_ENV] = 'true';
}

/**
 * A configured S3 client: path-style URLs (work with any S3-compatible server), checksums only when the
 * operation requires them (the SDK's default aws-chunked CRC32 uploads corrupt objects on some servers and are
 * rejected by others), short connect timeouts and few retries so that an unreachable endpoint fails in seconds.
 */
export function createS3Client(config: S3Config, options: S3ClientOptions = {}): S3Client {
  quietSdkNodeWarning();
  const c = normalizeS3Config(config);
  return new S3Client({
    endpoint: c.endpoint,
    region: c.region,
    forcePathStyle: true,
    credentials:
      c.accessKeyId !== undefined && c.secretAccessKey !== undefined
        ? { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey }
        : undefined,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: options.maxAttempts ?? 3,
    // @smithy/node-http-handler 4.x only warns when requestTimeout passes unless throwOnRequestTimeout is set;
    // socketTimeout also bounds a response body that stops half way.
    requestHandler: {
      connectionTimeout: options.connectTimeoutMs ?? 2000,
      requestTimeout: options.requestTimeoutMs ?? 60_000,
      throwOnRequestTimeout: true,
      socketTimeout: options.requestTimeoutMs ?? 60_000,
    },
  });
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

/**
 * S3 could not be reached or did not answer in time: a transport failure, not an answer from S3. Callers that
 * queue work for later (feedback uploads) test for this type; `timedOut` tells a stalled server from a refused one.
 */
export class S3UnavailableError extends Error {
  readonly code = 'S3_UNAVAILABLE';
  constructor(
    message: string,
    readonly timedOut: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'S3UnavailableError';
  }
}

function isTimeout(err: unknown): boolean {
  const e = err as { code?: string; name?: string };
  return e.name === 'TimeoutError' || e.name === 'RequestTimeout' || e.code === 'ETIMEDOUT';
}

function isNetworkError(err: unknown): boolean {
  if (err instanceof S3UnavailableError) return true;
  const e = err as { code?: string; name?: string; $metadata?: { httpStatusCode?: number } };
  if (e.code && NETWORK_CODES.has(e.code)) return true;
  if (e.name === 'TimeoutError' || e.name === 'RequestTimeout') return true;
  // Errors that never got an HTTP response (no status code) are transport failures.
  return e.$metadata !== undefined && e.$metadata.httpStatusCode === undefined && e.name !== 'AbortError';
}

function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

/**
 * The object-store operations the project needs, over one client. Every failure becomes an Error whose message
 * says what was attempted: `S3 endpoint http://... unreachable: ECONNREFUSED`, `s3://b/k not found`, ...
 */
export class S3Store {
  readonly client: S3Client;
  readonly config: S3Config;
  /** For messages: the endpoint URL or "AWS S3". */
  readonly where: string;

  /** The per-attempt limit in ms (for messages). */
  readonly requestTimeoutMs: number;

  constructor(config: S3Config, options: S3ClientOptions = {}) {
    this.config = normalizeS3Config(config);
    this.requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
    this.client = createS3Client(this.config, options);
    this.where = this.config.endpoint ?? `AWS S3 (${this.config.region})`;
  }

  /** A store configured from AREYOUACAT_S3_* (see s3ConfigFromEnv). */
  static fromEnv(overrides: Partial<S3Config> = {}, options: S3ClientOptions = {}): S3Store {
    return new S3Store(s3ConfigFromEnv(process.env, overrides), options);
  }

  /** The configured default bucket, or a clear error when none is set. */
  defaultBucket(): string {
    if (!this.config.bucket) throw new Error('no S3 bucket configured: set AREYOUACAT_S3_BUCKET');
    return this.config.bucket;
  }

  private async run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.explain(what, err);
    }
  }

  private explain(what: string, err: unknown): Error {
    const e = err as Error & { code?: string; Code?: string };
    const detail = e.code ?? e.message ?? String(err);
    if (err instanceof S3UnavailableError) return err;
    if (isNetworkError(err)) {
      if (isTimeout(err)) {
        return new S3UnavailableError(
          `S3 endpoint ${this.where} unreachable: did not answer within ${this.requestTimeoutMs} ms (while trying to ${what})`,
          true,
          { cause: err },
        );
      }
      return new S3UnavailableError(`S3 endpoint ${this.where} unreachable: ${detail} (while trying to ${what})`, false, { cause: err });
    }
    const status = statusOf(err);
    const name = e.name || e.Code || 'error';
    if (name === 'NoSuchBucket') return new Error(`cannot ${what}: bucket does not exist`, { cause: err });
    if (name === 'NoSuchKey' || status === 404) {
      // Same code as a missing file, so callers treating folders and S3 alike can tell "missing" from "broken".
      const where = name === 'NoSuchKey' ? '' : ` at ${this.where} (HTTP 404 ${name})`;
      return Object.assign(new Error(`cannot ${what}: not found${where}`, { cause: err }), { code: 'ENOENT' });
    }
    if (status === 403 || name === 'AccessDenied' || name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch') {
      return new Error(`cannot ${what}: access denied by ${this.where} (${name}); check the S3 keys`, { cause: err });
    }
    return new Error(`cannot ${what} at ${this.where}: ${name}${status ? ` (HTTP ${status})` : ''}: ${e.message}`, {
      cause: err,
    });
  }

  /** Create the bucket unless it exists already (owned by us). */
  async ensureBucket(bucket: string): Promise<void> {
    const what = `create bucket s3://${bucket}`;
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: bucket }));
      return;
    } catch (err) {
      if (isNetworkError(err)) throw this.explain(what, err);
      if (statusOf(err) !== 404) throw this.explain(`check bucket s3://${bucket}`, err);
    }
    try {
      await this.client.send(new CreateBucketCommand({ Bucket: bucket }));
    } catch (err) {
      const name = (err as Error).name;
      if (name === 'BucketAlreadyOwnedByYou' || name === 'BucketAlreadyExists') return;
      throw this.explain(what, err);
    }
  }

  async putObject(bucket: string, key: string, body: Buffer | Uint8Array | string, contentType?: string): Promise<void> {
    await this.run(`write s3://${bucket}/${key}`, () =>
      this.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType })),
    );
  }

  async getObject(bucket: string, key: string): Promise<Buffer> {
    return this.run(`read s3://${bucket}/${key}`, async () => {
      const res = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (!res.Body) return Buffer.alloc(0);
      return Buffer.from(await res.Body.transformToByteArray());
    });
  }

  /** Metadata of one object, or undefined when it does not exist. */
  async headObject(bucket: string, key: string): Promise<S3ObjectInfo | undefined> {
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return {
        key,
        size: res.ContentLength ?? 0,
        etag: res.ETag,
        contentType: res.ContentType,
        lastModified: res.LastModified,
      };
    } catch (err) {
      if (!isNetworkError(err) && statusOf(err) === 404 && (err as Error).name !== 'NoSuchBucket') return undefined;
      throw this.explain(`look up s3://${bucket}/${key}`, err);
    }
  }

  /**
   * Every object under `prefix`, in key order, over all pages. Uses ListObjects (v1) with markers: servers
   * and S3 accept it everywhere, and it avoids the v2 continuation tokens that s3rver cannot produce on Node 20
   * without `--openssl-legacy-provider` (they are DES-encrypted).
   */
  async listKeys(bucket: string, prefix = '', options: { pageSize?: number } = {}): Promise<S3ObjectInfo[]> {
    const out: S3ObjectInfo[] = [];
    let marker: string | undefined;
    for (;;) {
      const page = await this.run(`list s3://${bucket}/${prefix}`, () =>
        this.client.send(new ListObjectsCommand({
            Bucket: bucket,
            Prefix: prefix || undefined,
            Marker: marker,
            MaxKeys: options.pageSize,
          })),
      );
      const contents = page.Contents ?? [];
      for (const o of contents) {
        if (o.Key === undefined) continue;
        out.push({ key: o.Key, size: o.Size ?? 0, etag: o.ETag, lastModified: o.LastModified });
      }
      if (!page.IsTruncated) break;
      const next = page.NextMarker ?? contents[contents.length - 1]?.Key;
      if (next === undefined || next === marker) {
        throw new Error(`cannot list s3://${bucket}/${prefix}: ${this.where} returned a truncated page without a marker`);
      }
      marker = next;
    }
    return out;
  }

  /** Delete one object; deleting a missing object is not an error (as in S3). */
  async deleteObject(bucket: string, key: string): Promise<void> {
    await this.run(`delete s3://${bucket}/${key}`, () =>
      this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })),
    );
  }

  /** Delete many objects, 1000 per request; fails naming the first key the server refused. */
  async deleteObjects(bucket: string, keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const chunk = keys.slice(i, i + 1000);
      const res = await this.run(`delete ${chunk.length} objects in s3://${bucket}`, () =>
        this.client.send(
          new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: chunk.map((Key) => ({ Key })), Quiet: true } }),
        ),
      );
      const failed = res.Errors ?? [];
      if (failed.length > 0) {
        const f = failed[0];
        throw new Error(`cannot delete s3://${bucket}/${f.Key}: ${f.Code ?? 'error'} ${f.Message ?? ''} (${failed.length} failed)`);
      }
    }
  }

  /** Release sockets (tests and short-lived commands). */
  close(): void {
    this.client.destroy();
  }
}
