import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { BACKBONE_VIEW } from '../model/backbone.js';
import { backboneSpec } from '../model/backbones.js';
import { paths } from '../storage/paths.js';
import { S3Store } from '../storage/s3-client.js';

/** Where a feature job keeps what it computed: this machine's disk, the shared S3 bucket, or nowhere. */
export type FeatureCacheKind = 'disk' | 's3' | 'none';

/** Content-addressed backbone features of single images (two writers of one key write the same bytes). */
export interface FeatureStore {
  readonly where: string;
  /** The row of `dim` values stored under `key`, or undefined (missing, or another length: a broken entry). */
  get(key: string, dim: number): Promise<Float32Array | undefined>;
  put(key: string, features: Float32Array): Promise<void>;
}

/**
 * The cache key of one image's features: backbone, the view of the photo they describe (the whole view), input
 * size, mirroring and the bytes of the image's prepared square (its identity).
 */
export function imageFeatureKey(backbone: string, pixels: Uint8Array, size: number, flip: boolean): string {
  return createHash('sha256')
    .update(`${backboneSpec(backbone).cacheId}:${BACKBONE_VIEW}:${size}:${flip ? 'flip' : 'plain'}:image:`)
    .update(pixels)
    .digest('hex')
    .slice(0, 32);
}

function decode(buf: Buffer | undefined | null, dim: number): Float32Array | undefined {
  if (!buf || buf.byteLength !== dim * 4) return undefined;
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

const bytesOf = (f: Float32Array) => Buffer.from(f.buffer, f.byteOffset, f.byteLength);

/** One file per image under `<data>/cache/features/images/<2 hex>/<key>.f32`. */
export class DiskFeatureStore implements FeatureStore {
  readonly where: string;
  constructor(private readonly dir: string = path.join(paths.featureCache(), 'images')) {
    this.where = dir;
  }
  private file(key: string): string {
    return path.join(this.dir, key.slice(0, 2), `${key}.f32`);
  }
  async get(key: string, dim: number): Promise<Float32Array | undefined> {
    return decode(await fs.readFile(this.file(key)).catch(() => null), dim);
  }
  async put(key: string, features: Float32Array): Promise<void> {
    // Write and rename without fsync: one sync per image would dominate a shard on a busy disk, and a cache
    // entry lost or cut short by a crash fails the size check in get() and is computed again.
    const file = this.file(key);
    await fs.mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await fs.writeFile(tmp, bytesOf(features));
    await fs.rename(tmp, file);
  }
}

/** One object per image under `s3://<AREYOUACAT_S3_BUCKET>/cache/features/<key>`, shared by every worker. */
export class S3FeatureStore implements FeatureStore {
  readonly where: string;
  private readonly bucket: string;
  constructor(
    private readonly store: S3Store = S3Store.fromEnv(),
    private readonly prefix = 'cache/features/',
  ) {
    this.bucket = store.defaultBucket();
    this.where = `s3://${this.bucket}/${prefix}`;
  }
  async get(key: string, dim: number): Promise<Float32Array | undefined> {
    try {
      return decode(await this.store.getObject(this.bucket, `${this.prefix}${key}`), dim);
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return undefined;
      throw err;
    }
  }
  async put(key: string, features: Float32Array): Promise<void> {
    await this.store.putObject(this.bucket, `${this.prefix}${key}`, bytesOf(features), 'application/octet-stream');
  }
}

/** The store a cache kind names, configured from this process's environment (null for 'none'). */
export function openFeatureStore(kind: FeatureCacheKind): FeatureStore | null {
  if (kind === 'disk') return new DiskFeatureStore();
  if (kind === 's3') return new S3FeatureStore();
  return null;
}
