import os from 'node:os';
import type { Log, Progress } from '../progress/index.js';
import { mapLimit } from '../data/concurrency.js';
import type { PreparedSplit } from '../data/types.js';
import { readCachedFeatures, writeCachedFeatures, type FeatureMatrix } from '../model/backbone-features.js';
import { backboneSpec } from '../model/backbones.js';
import { decodeFeatureShard, FEATURE_SHARD_KIND, type FeatureShardInput, type FeatureShardOutput } from './feature-shard.js';
import { imageFeatureKey, openFeatureStore, type FeatureCacheKind } from './feature-store.js';
import type { Executor, JobSpec } from './job.js';
import { JOB_HANDLERS } from './kinds.js';
import { InlineExecutor, LocalExecutor } from './local-executor.js';

/** One set of features to compute: a split's images, plain or mirrored. */
export interface FeatureView {
  images: PreparedSplit;
  flip: boolean;
}

export interface FeatureJobsOptions {
  /** The backbone's id (`backbones.ts`). */
  backbone: string;
  views: FeatureView[];
  /** The data source spec the splits were ingested from; workers read the images from it. */
  sourceSpec: string;
  /** Where to run the shards; default a local pool (one process per core, at most one per shard). */
  executor?: Executor;
  /** Local pool size when no executor is given. */
  workers?: number;
  /** Whole-view cache that training reads (`imageFeatures` with the same folder finds the result). */
  cacheDir?: string;
  /** Images per job (default 32). */
  shardSize?: number;
  /** Images per backbone batch inside a job (default 16). */
  batchSize?: number;
  onProgress?: Progress;
  log?: Log;
}

/**
 * The per-image cache the workers of an executor share: this machine's disk for local workers; for a queue,
 * the S3 bucket when one is configured (AREYOUACAT_S3_BUCKET), else none (results still come back with the job).
 */
export function featureCacheFor(executor: Pick<Executor, 'local'>, env: NodeJS.ProcessEnv = process.env): FeatureCacheKind {
  if (executor.local) return 'disk';
  return env.AREYOUACAT_S3_BUCKET ? 's3' : 'none';
}

interface Shard {
  view: number;
  /** The same images' other view (mirrored), computed in the same job from the same decoded photos. */
  pair?: number;
  indices: number[];
}

/**
 * Backbone features of every view, computed as jobs: images whose features the cache already holds are read
 * back; the rest are cut into shards (source spec, item paths, the coordinator's per-image keys) and run on the
 * executor; the assembled views are written to `cacheDir` for training. Output order follows `views`.
 */
export async function computeFeaturesWithJobs(opts: FeatureJobsOptions): Promise<FeatureMatrix[]> {
  const shardSize = opts.shardSize ?? 32;
  const { backbone } = opts;
  const BACKBONE_FEATURES = backboneSpec(backbone).features;
  const out: Array<FeatureMatrix | null> = await Promise.all(
    opts.views.map((v) => (opts.cacheDir ? readCachedFeatures(backbone, v.images, v.flip, opts.cacheDir) : Promise.resolve(null))),
  );
  if (out.every(Boolean)) return out as FeatureMatrix[];

  const cache = opts.executor ? featureCacheFor(opts.executor) : 'disk';
  const store = openFeatureStore(cache);
  const keys: string[][] = [];
  const data: Float32Array[] = [];
  const shards: Shard[] = [];
  const missingOf: number[][] = [];
  let fromCache = 0;
  for (const [v, view] of opts.views.entries()) {
    const { images, flip } = view;
    const per = images.size * images.size * 3;
    keys[v] = Array.from({ length: images.n }, (_, i) => imageFeatureKey(backbone, images.pixels.subarray(i * per, (i + 1) * per), images.size, flip));
    data[v] = new Float32Array(images.n * BACKBONE_FEATURES);
    if (out[v]) continue;
    const found = store ? await mapLimit(keys[v], 16, (k) => store.get(k, BACKBONE_FEATURES)) : keys[v].map(() => undefined);
    const missing: number[] = [];
    found.forEach((f, i) => (f ? data[v].set(f, i * BACKBONE_FEATURES) : missing.push(i)));
    fromCache += images.n - missing.length;
    missingOf[v] = missing;
  }
  // A split asked for plain and mirrored goes as one set of jobs: each photo is read and decoded once for both.
  const paired = new Set<number>();
  for (const [v, view] of opts.views.entries()) {
    if (out[v] || paired.has(v)) continue;
    const w = opts.views.findIndex((o, j) => j !== v && !out[j] && !paired.has(j) && o.images === view.images && o.flip !== view.flip);
    if (w >= 0) {
      paired.add(v).add(w);
      const inW = new Set(missingOf[w]);
      const both = missingOf[v].filter((i) => inW.has(i));
      const inBoth = new Set(both);
      for (let s = 0; s < both.length; s += shardSize) shards.push({ view: v, pair: w, indices: both.slice(s, s + shardSize) });
      for (const [x, list] of [[v, missingOf[v]], [w, missingOf[w]]] as const) {
        const rest = list.filter((i) => !inBoth.has(i));
        for (let s = 0; s < rest.length; s += shardSize) shards.push({ view: x, indices: rest.slice(s, s + shardSize) });
      }
    } else {
      for (let s = 0; s < missingOf[v].length; s += shardSize) shards.push({ view: v, indices: missingOf[v].slice(s, s + shardSize) });
    }
  }

  if (shards.length) {
    const owned = opts.executor
      ? null
      : shards.length === 1
        ? new InlineExecutor(JOB_HANDLERS)
        : new LocalExecutor({ workers: Math.min(opts.workers ?? os.cpus().length, shards.length), backbones: [backbone] });
    const executor = opts.executor ?? owned!;
    const images = shards.reduce((n, s) => n + s.indices.length * (s.pair === undefined ? 1 : 2), 0);
    opts.log?.(`features: ${images} images in ${shards.length} jobs on ${executor.description}${fromCache ? ` (${fromCache} from the cache)` : ''}`);
    const jobs: Array<JobSpec<FeatureShardInput>> = shards.map((s) => {
      const { images: split, flip } = opts.views[s.view];
      return {
        kind: FEATURE_SHARD_KIND,
        input: {
          source: opts.sourceSpec,
          items: s.indices.map((i) => ({ path: split.paths[i], group: split.groups[i], source: '' })),
          keys: s.indices.map((i) => keys[s.view][i]),
          ...(s.pair === undefined ? {} : { pairKeys: s.indices.map((i) => keys[s.pair!][i]) }),
          backbone,
          size: split.size,
          flip,
          cache,
          ...(opts.batchSize ? { batchSize: opts.batchSize } : {}),
        },
      };
    });
    try {
      const results = await executor.run<FeatureShardOutput>(jobs, { onProgress: opts.onProgress, label: 'feature jobs' });
      results.forEach((r, j) => {
        const s = shards[j];
        const f = decodeFeatureShard(r, s.indices.length, BACKBONE_FEATURES);
        s.indices.forEach((i, k) => data[s.view].set(f.subarray(k * BACKBONE_FEATURES, (k + 1) * BACKBONE_FEATURES), i * BACKBONE_FEATURES));
        if (s.pair !== undefined) {
          if (!r.pairFeatures) throw new Error('a feature job for both views returned only one (a worker of another version?)');
          const g = decodeFeatureShard({ features: r.pairFeatures }, s.indices.length, BACKBONE_FEATURES);
          s.indices.forEach((i, k) => data[s.pair!].set(g.subarray(k * BACKBONE_FEATURES, (k + 1) * BACKBONE_FEATURES), i * BACKBONE_FEATURES));
        }
      });
    } finally {
      await owned?.close();
    }
  }

  const views: FeatureMatrix[] = [];
  for (const [v, view] of opts.views.entries()) {
    const m = out[v] ?? { n: view.images.n, dim: BACKBONE_FEATURES, data: data[v] };
    if (!out[v] && opts.cacheDir) await writeCachedFeatures(backbone, view.images, view.flip, opts.cacheDir, m);
    views.push(m);
  }
  return views;
}
