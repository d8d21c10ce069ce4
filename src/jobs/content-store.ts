import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { paths } from '../storage/paths.js';
import { S3Store } from '../storage/s3-client.js';
import { DeterministicJobError } from './job.js';
import type { FeatureCacheKind } from './feature-store.js';

/**
 * Bytes a job needs or answers with (a split's prepared pixels, a trial's trained weights), by content: kept under
 * their SHA-256 in the store the executor's workers share (this machine's disk for the local pool, the S3 bucket
 * for a queue), or carried in the job itself when there is no shared store or they are small.
 */
export type ContentRef = { sha256: string; size: number; store: 'disk' | 's3' } | { sha256: string; size: number; inline: string };

/** Below this many bytes content travels in the job (or its result) even when a store is there. */
export const INLINE_BELOW = 64 * 1024;

const S3_PREFIX = 'cache/content/';

function diskFile(sha256: string): string {
  return path.join(paths.root(), 'cache', 'content', sha256.slice(0, 2), sha256);
}

const hashOf = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Keep `bytes` where `kind` says (content-addressed: two writers of one key write the same bytes) and name them. */
export async function putContent(kind: FeatureCacheKind, bytes: Uint8Array, opts: { inlineBelow?: number } = {}): Promise<ContentRef> {
  const sha256 = hashOf(bytes);
  const size = bytes.byteLength;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (kind === 'none' || size < (opts.inlineBelow ?? INLINE_BELOW)) return { sha256, size, inline: buf.toString('base64') };
  if (kind === 's3') {
    const store = S3Store.fromEnv();
    const bucket = store.defaultBucket();
    const key = `${S3_PREFIX}${sha256}`;
    if (!(await store.headObject(bucket, key))) await store.putObject(bucket, key, buf, 'application/octet-stream');
    return { sha256, size, store: 's3' };
  }
  const file = diskFile(sha256);
  const there = await fs.stat(file).then((s) => s.size === size, () => false);
  if (!there) {
    await fs.mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await fs.writeFile(tmp, buf);
    await fs.rename(tmp, file);
  }
  return { sha256, size, store: 'disk' };
}

// A worker keeps the last few pieces it fetched (the splits of one tuning run, read by each of its trials).
const recent = new Map<string, Promise<Buffer>>();
const RECENT = 4;

async function fetchContent(ref: ContentRef): Promise<Buffer> {
  let bytes: Buffer;
  if ('inline' in ref) bytes = Buffer.from(ref.inline, 'base64');
  else if (ref.store === 's3') {
    const store = S3Store.fromEnv();
    try {
      bytes = await store.getObject(store.defaultBucket(), `${S3_PREFIX}${ref.sha256}`);
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') throw new DeterministicJobError(`content ${ref.sha256.slice(0, 12)} is not in s3://${store.defaultBucket()}/${S3_PREFIX}`);
      throw err;
    }
  } else {
    bytes = await fs.readFile(diskFile(ref.sha256)).catch((err: Error) => {
      throw new DeterministicJobError(`content ${ref.sha256.slice(0, 12)} is not in this machine's cache: ${err.message}`);
    });
  }
  if (bytes.byteLength !== ref.size || hashOf(bytes) !== ref.sha256) {
    throw new DeterministicJobError(`content ${ref.sha256.slice(0, 12)}: got ${bytes.byteLength} bytes that do not match their name`);
  }
  return bytes;
}

/** The bytes a reference names, checked against their SHA-256. */
export function getContent(ref: ContentRef): Promise<Buffer> {
  if ('inline' in ref) return fetchContent(ref);
  const key = `${'store' in ref ? ref.store : ''}:${ref.sha256}`;
  let p = recent.get(key);
  if (!p) {
    p = fetchContent(ref);
    recent.set(key, p);
    p.catch(() => recent.delete(key));
    while (recent.size > RECENT) recent.delete(recent.keys().next().value!);
  }
  return p;
}

/**
 * Remove stored content nobody needs any more (a finished tuning run's trial weights, recorded by then in the
 * tracking store). Inline references hold nothing; content already gone is fine. Returns how many were removed.
 */
export async function deleteContent(refs: readonly ContentRef[]): Promise<number> {
  const stored = [...new Map(refs.filter((r): r is Extract<ContentRef, { store: 'disk' | 's3' }> => 'store' in r).map((r) => [`${r.store}:${r.sha256}`, r])).values()];
  for (const r of stored) recent.delete(`${r.store}:${r.sha256}`);
  const onS3 = stored.filter((r) => r.store === 's3').map((r) => `${S3_PREFIX}${r.sha256}`);
  if (onS3.length) {
    const store = S3Store.fromEnv();
    await store.deleteObjects(store.defaultBucket(), onS3);
  }
  await Promise.all(stored.filter((r) => r.store === 'disk').map((r) => fs.rm(diskFile(r.sha256), { force: true })));
  return stored.length;
}
