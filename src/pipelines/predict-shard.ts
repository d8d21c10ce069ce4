import { sourceFor } from '../jobs/feature-shard.js';
import type { SourceItem } from '../data/types.js';
import { DeterministicJobError, type JobContext } from '../jobs/job.js';
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
}

export interface PredictShardOutput {
  rows: SourcePrediction[];
}

// A worker keeps the last model it loaded (registry versions never change) and the sources it opened.
let loaded: { version: number; model: Promise<RegisteredModel> } | undefined;

function modelFor(version: number): Promise<RegisteredModel> {
  if (loaded?.version === version) return loaded.model;
  const previous = loaded;
  const model = loadRegisteredModel(version).catch((err: Error) => {
    if (loaded?.version === version) loaded = undefined;
    throw new DeterministicJobError(`cannot load model v${version} from this worker's registry: ${err.message}`);
  });
  loaded = { version, model };
  void previous?.model.then((m) => m.model.dispose(), () => {});
  return model;
}


/**
 * The job handler: score the shard's images with the given registry version, exactly as the local path does
 * (`predictItems`); bad files come back as rows with their reason. The model is read from this process's registry
 * folder, so a queue worker must share the coordinator's AREYOUACAT_HOME for now.
 */
export async function predictShardJob(input: PredictShardInput, ctx: JobContext = {}): Promise<PredictShardOutput> {
  if (!Number.isInteger(input.version) || input.version < 1) throw new DeterministicJobError(`predict shard: version must be a positive integer, got ${input.version}`);
  if (!Array.isArray(input.items) || input.items.length === 0) throw new DeterministicJobError('predict shard: no items');
  const registered = await modelFor(input.version);
  const source = await sourceFor(input.source);
  const rows = await predictItems(source, input.items, registered, { onProgress: ctx.onProgress ? (done, total) => ctx.onProgress!(done, total) : undefined });
  return { rows };
}
