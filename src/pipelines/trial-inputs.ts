import { mapLimit } from '../data/concurrency.js';
import type { PreparedDataset, PreparedSplit } from '../data/types.js';
import { putContent } from '../jobs/content-store.js';
import { computeFeaturesWithJobs } from '../jobs/feature-jobs.js';
import { imageFeatureKey, openFeatureStore, type FeatureCacheKind } from '../jobs/feature-store.js';
import type { Executor } from '../jobs/job.js';
import { backboneSpec } from '../model/backbones.js';
import type { FeatureMatrix } from '../model/backbone-features.js';
import type { Log } from '../progress/index.js';
import { paths } from '../storage/paths.js';
import type { TrialData } from './trial-task.js';

export interface TrialDataOptions {
  /** The pretrained backbone's id: the trials train on its features; null: on the prepared pixels. */
  backbone: string | null;
  /** Whether the trials augment with flips (a mirrored training view). */
  flip: boolean;
  /** The store the executor's workers share ('none': everything travels in the job). */
  cache: FeatureCacheKind;
  /** The data spec and executor the features come from when the coordinator's cache lacks them. */
  sourceSpec: string;
  executor: Executor;
  log?: Log;
}

const labelsOf = (s: PreparedSplit) => Array.from(s.labels);

function keysOf(backbone: string, split: PreparedSplit, flip: boolean): string[] {
  const per = split.size * split.size * 3;
  return Array.from({ length: split.n }, (_, i) => imageFeatureKey(backbone, split.pixels.subarray(i * per, (i + 1) * per), split.size, flip));
}

/**
 * Make sure the shared feature cache holds every row the trials will ask for (the coordinator may have found a
 * view in its own whole-view cache, whose rows a worker elsewhere cannot read): rows it lacks are put there.
 */
async function ensureRows(cache: FeatureCacheKind, keys: string[][], matrices: FeatureMatrix[], dim: number): Promise<number> {
  const store = openFeatureStore(cache);
  if (!store) return 0;
  const todo = new Map<string, Float32Array>();
  keys.forEach((ks, v) => ks.forEach((k, i) => todo.set(k, matrices[v].data.subarray(i * dim, (i + 1) * dim))));
  let put = 0;
  await mapLimit([...todo.entries()], 16, async ([key, row]) => {
    if (await store.get(key, dim)) return;
    await store.put(key, row.slice());
    put++;
  });
  return put;
}

/**
 * The data of every trial of a tuning run, by content: on a backbone the labels and per-image feature keys (the
 * rows in the shared feature cache, or in the job when there is none), else the labels and the splits' prepared
 * pixels in the content store. Workers then need nothing of the coordinator's data folder.
 */
export async function trialData(dataset: PreparedDataset, opts: TrialDataOptions): Promise<TrialData> {
  const { train, val } = dataset;
  if (!opts.backbone) {
    const [trainPixels, valPixels] = await Promise.all([putContent(opts.cache, train.pixels), putContent(opts.cache, val.pixels)]);
    return { kind: 'pixels', size: dataset.size, train: { labels: labelsOf(train), pixels: trainPixels }, val: { labels: labelsOf(val), pixels: valPixels } };
  }
  // Validation in both views: a backbone model's prediction is the mean over the photo and its mirror image.
  const views = [{ images: train, flip: false }, ...(opts.flip ? [{ images: train, flip: true }] : []), { images: val, flip: false }, { images: val, flip: true }];
  const backbone = opts.backbone;
  const matrices = await computeFeaturesWithJobs({ backbone, views, sourceSpec: opts.sourceSpec, executor: opts.executor, cacheDir: paths.featureCache(), log: opts.log });
  const keys = views.map((v) => keysOf(backbone, v.images, v.flip));
  const data: TrialData = {
    kind: 'features',
    backbone,
    size: dataset.size,
    cache: opts.cache,
    train: { labels: labelsOf(train), keys: keys[0], ...(opts.flip ? { mirroredKeys: keys[1] } : {}) },
    val: { labels: labelsOf(val), keys: keys[keys.length - 2], mirroredKeys: keys[keys.length - 1] },
  };
  if (opts.cache === 'none') {
    const all = new Float32Array(matrices.reduce((n, m) => n + m.data.length, 0));
    let at = 0;
    for (const m of matrices) {
      all.set(m.data, at);
      at += m.data.length;
    }
    return { ...data, rows: Buffer.from(all.buffer).toString('base64') };
  }
  const put = await ensureRows(opts.cache, keys, matrices, backboneSpec(backbone).features);
  if (put) opts.log?.(`tuning: ${put} feature rows added to the shared cache for the trials`);
  return data;
}
