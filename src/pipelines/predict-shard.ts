import { sourceFor } from '../jobs/feature-shard.js';
import type { SourceItem } from '../data/types.js';
import { DeterministicJobError, type JobContext } from '../jobs/job.js';
import { selectBackend } from '../model/backend.js';
import { loadModel } from '../model/io.js';
import { downloadPublishedVersion, openModelsLocation } from '../registry/remote.js';
import { paths } from '../storage/paths.js';
import { predictItems, type SourcePrediction } from './predict-source.js';
import { loadRegisteredModel, type RegisteredModel } from './registered-model.js';

/** Job kind of a shard of batch inference (or evaluation): some images of a source, one registry version. */
export const PREDICT_SHARD_KIND = 'predict-shard';

export interface PredictShardInput {
  /** Data source spec every worker can open: a folder all of them can read, s3://bucket/prefix, or synthetic. */
  source: string;
  /** The items to score, as the coordinator listed them. */
  items: SourceItem[];
  /** The registry version to predict with (resolved by the coordinator: the promoted one or `--model`). */
  version: number;
  /**
   * The published registry (`s3://bucket/prefix`) the worker downloads the version from; the coordinator
   * published it before it made the job. Without it (the local pool) the worker reads its own registry folder.
   */
  models?: string;
}

export interface PredictShardOutput {
  rows: SourcePrediction[];
}

// A worker keeps the last model it loaded (registry versions never change) and the sources it opened.
let loaded: { key: string; model: Promise<RegisteredModel> } | undefined;

/** A published version, downloaded (once, verified) into this worker's model cache. */
async function loadPublished(models: string, version: number): Promise<RegisteredModel> {
  const loc = openModelsLocation(models);
  try {
    const entry = await downloadPublishedVersion(loc, version, paths.remoteModels());
    await selectBackend();
    return { ...entry, model: await loadModel(entry.dir) };
  } finally {
    loc.store.close();
  }
}

function modelFor(version: number, models: string | undefined): Promise<RegisteredModel> {
  const key = `${models ?? ''}#${version}`;
  if (loaded?.key === key) return loaded.model;
  const previous = loaded;
  const model = (models ? loadPublished(models, version) : loadRegisteredModel(version)).catch((err: Error) => {
    if (loaded?.key === key) loaded = undefined;
    throw new DeterministicJobError(`cannot load model v${version} from ${models ?? "this worker's registry"}: ${err.message}`);
  });
  loaded = { key, model };
  void previous?.model.then((m) => m.model.dispose(), () => {});
  return model;
}

/**
 * The job handler: score the shard's images with the given registry version, exactly as the local path does
 * (`predictItems`); bad files come back as rows with their reason. The model comes from the published registry
 * the job names (kept in this worker's model cache), or from this process's registry folder on the local pool.
 */
export async function predictShardJob(input: PredictShardInput, ctx: JobContext = {}): Promise<PredictShardOutput> {
  if (!Number.isInteger(input.version) || input.version < 1) throw new DeterministicJobError(`predict shard: version must be a positive integer, got ${input.version}`);
  if (!Array.isArray(input.items) || input.items.length === 0) throw new DeterministicJobError('predict shard: no items');
  const registered = await modelFor(input.version, input.models);
  const source = await sourceFor(input.source);
  const rows = await predictItems(source, input.items, registered, { onProgress: ctx.onProgress ? (done, total) => ctx.onProgress!(done, total) : undefined });
  return { rows };
}
