import { openSource } from '../data/sources/index.js';
import { DEFAULT_LIMITS } from '../data/inspect.js';
import { decodeRgb } from '../data/prepare.js';
import type { ViewPixels } from '../data/whole-view.js';
import type { DataSource, SourceItem } from '../data/types.js';
import { squareAndWholeView, viewFeatures } from '../model/photo-features.js';
import { backboneSpec } from '../model/backbones.js';
import { mapLimit } from '../data/concurrency.js';
import { imageFeatureKey, openFeatureStore, type FeatureCacheKind } from './feature-store.js';
import { DeterministicJobError, type JobContext } from './job.js';

export const FEATURE_SHARD_KIND = 'backbone-features';

/** A shard of images to compute backbone features for, named by the data source and item paths (no pixels). */
export interface FeatureShardInput {
  /** Data source spec every worker can open: a folder all of them can read, or s3://bucket/prefix. */
  source: string;
  items: Array<Pick<SourceItem, 'path' | 'group' | 'source'>>;
  /** The coordinator's feature key of each item (from its prepared pixels); the worker must arrive at the same. */
  keys: string[];
  /**
   * Keys of the same items' other view (mirrored when `flip` is false): when given, the job computes both views from
   * one read and decode of each photo and returns the other as `pairFeatures`.
   */
  pairKeys?: string[];
  /** The backbone's id (`backbones.ts`). */
  backbone: string;
  size: number;
  flip: boolean;
  cache: FeatureCacheKind;
  batchSize?: number;
}

export interface FeatureShardOutput {
  /** n x BACKBONE_FEATURES float32 values, little-endian, base64 (JSON travels through the queue). */
  features: string;
  /** The other view's, when the input named `pairKeys`. */
  pairFeatures?: string;
}

const sources = new Map<string, Promise<DataSource>>();
/** The data source of a spec, opened once per worker process. */
export function sourceFor(spec: string): Promise<DataSource> {
  let s = sources.get(spec);
  if (!s) {
    s = openSource(spec);
    sources.set(spec, s);
    s.catch(() => sources.delete(spec));
  }
  return s;
}

function checkInput(input: FeatureShardInput): void {
  if (!Number.isInteger(input.size) || input.size < 16 || input.size > 1024) {
    throw new DeterministicJobError(`feature shard: size must be an integer from 16 to 1024, got ${input.size}`);
  }
  if (!Array.isArray(input.items) || input.items.length === 0 || input.items.length !== input.keys?.length) {
    throw new DeterministicJobError(`feature shard: ${input.items?.length} items for ${input.keys?.length} keys`);
  }
  if (input.pairKeys !== undefined && (!Array.isArray(input.pairKeys) || input.pairKeys.length !== input.keys.length)) {
    throw new DeterministicJobError(`feature shard: ${input.pairKeys?.length} pair keys for ${input.keys.length} keys`);
  }
  try {
    backboneSpec(input.backbone);
  } catch (err) {
    throw new DeterministicJobError(`feature shard: ${(err as Error).message}`);
  }
  if (!['disk', 's3', 'none'].includes(input.cache)) throw new DeterministicJobError(`feature shard: unknown cache "${input.cache}"`);
}

/**
 * The job handler: read and prepare each image exactly as ingest does, check that its key (from the prepared
 * square) matches the coordinator's, compute the backbone features of the whole views of the images the cache
 * does not have, store them (after the
 * whole shard is done, so a killed job leaves nothing behind) and return all of them.
 */
export async function featureShardJob(input: FeatureShardInput, ctx: JobContext = {}): Promise<FeatureShardOutput> {
  checkInput(input);
  const { size, flip, backbone } = input;
  const D = backboneSpec(backbone).features;
  const n = input.items.length;
  const store = openFeatureStore(input.cache);
  // One entry per view this job answers: the asked-for one, and the other (mirrored) when pairKeys are given.
  const wanted = [{ flip, keys: input.keys }, ...(input.pairKeys ? [{ flip: !flip, keys: input.pairKeys }] : [])];
  const outs = wanted.map(() => new Float32Array(n * D));
  const cached = await Promise.all(wanted.map((w) => (store ? mapLimit(w.keys, 8, (k) => store.get(k, D)) : Promise.resolve(w.keys.map(() => undefined)))));
  cached.forEach((c, v) => c.forEach((row, i) => row && outs[v].set(row, i * D)));
  const todo = input.items.flatMap((_, i) => (cached.some((c) => !c[i]) ? [i] : []));
  if (todo.length) {
    const source = await sourceFor(input.source);
    const views: ViewPixels[] = new Array<ViewPixels>(todo.length);
    await mapLimit(todo, 4, async (i, j) => {
      const item = input.items[i];
      const buf = await source.read({ ...item });
      let prepared: { square: Uint8Array; view: ViewPixels };
      try {
        prepared = await squareAndWholeView(await decodeRgb(buf, DEFAULT_LIMITS.maxPixels), size);
      } catch (err) {
        throw new DeterministicJobError(`cannot prepare ${item.path}: ${(err as Error).message}`);
      }
      for (const w of wanted) {
        if (imageFeatureKey(backbone, prepared.square, size, w.flip) !== w.keys[i]) {
          throw new DeterministicJobError(`${item.path}: the prepared pixels differ from the coordinator's (changed file or another image decoder)`);
        }
      }
      views[j] = prepared.view;
    });
    // Batch by batch, returning to the event loop in between: the wasm backend resolves in microtasks, which
    // would otherwise starve timers such as the queue's lock renewal for the whole shard.
    const batchSize = input.batchSize ?? 16;
    const computed = wanted.map(() => new Float32Array(todo.length * D));
    // Views of one shape together, so that batches are full (each shape runs on its own backbone graph).
    const shapeOf = (j: number) => views[j].height * 4096 + views[j].width;
    const order = views.map((_, j) => j).sort((a, b) => shapeOf(a) - shapeOf(b) || a - b);
    for (let start = 0; start < todo.length; start += batchSize) {
      const batch = order.slice(start, start + batchSize);
      for (const [v, w] of wanted.entries()) {
        const f = await viewFeatures(backbone, batch.map((j) => views[j]), w.flip, batchSize);
        batch.forEach((j, k) => computed[v].set(f.subarray(k * D, (k + 1) * D), j * D));
      }
      ctx.onProgress?.(n - todo.length + start + batch.length, n);
      await new Promise((resolve) => setImmediate(resolve));
    }
    for (const [v, w] of wanted.entries()) {
      const row = (j: number) => computed[v].subarray(j * D, (j + 1) * D);
      todo.forEach((i, j) => outs[v].set(row(j), i * D));
      if (store) await mapLimit(todo, 8, (i, j) => (cached[v][i] ? Promise.resolve() : store.put(w.keys[i], row(j).slice())));
    }
  }
  const base64 = (f: Float32Array) => Buffer.from(f.buffer, f.byteOffset, f.byteLength).toString('base64');
  return { features: base64(outs[0]), ...(outs[1] ? { pairFeatures: base64(outs[1]) } : {}) };
}

export function decodeFeatureShard(output: FeatureShardOutput, n: number, dim: number): Float32Array {
  const buf = Buffer.from(output.features, 'base64');
  if (buf.byteLength !== n * dim * 4) throw new Error(`feature shard returned ${buf.byteLength} bytes for ${n} images`);
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}
