import { paths } from '../storage/paths.js';
import { openSource } from '../data/sources/index.js';
import type { Executor } from '../jobs/job.js';
import type { Progress } from '../progress/index.js';
import { ensureVersionPublished } from '../registry/publish.js';
import type { PromotedModel } from '../registry/types.js';
import { predictSourceWithJobs } from './predict-jobs.js';
import { predictSource, type SourcePrediction } from './predict-source.js';
import { findRegisteredVersion, loadRegisteredModel } from './registered-model.js';

export interface SpecPredictions {
  /** The registry entry the predictions were made with. */
  entry: PromotedModel;
  rows: SourcePrediction[];
}

/**
 * Predictions for every image of a data spec with a registry version (default: the promoted one): in this process,
 * or with `executor` as prediction-shard jobs (queue workers download the version from the registry published on
 * S3, which this publishes it to first; the local pool reads the registry folder), same rows in the same order.
 */
export async function predictSpec(
  spec: string,
  opts: { model?: number | string; executor?: Executor; shardSize?: number; onProgress?: Progress } = {},
): Promise<SpecPredictions> {
  if (opts.executor) {
    const entry = await findRegisteredVersion(opts.model);
    // Workers elsewhere download the version from the published registry: publish it first if it is not there.
    const models = opts.executor.local ? undefined : ((await ensureVersionPublished(entry.version)) ?? undefined);
    const source = await openSource(spec);
    const rows = await predictSourceWithJobs(spec, source, entry.version, opts.executor, { shardSize: opts.shardSize, models, onProgress: opts.onProgress });
    return { entry, rows };
  }
  const registered = await loadRegisteredModel(opts.model);
  try {
    const source = await openSource(spec);
    const { model: _model, ...entry } = registered;
    return { entry, rows: await predictSource(source, registered, { onProgress: opts.onProgress, featureCacheDir: paths.featureCache() }) };
  } finally {
    registered.model.dispose();
  }
}
