import { loadDatasetManifest, loadDatasetSummary } from '../data/ingest.js';
import { openSource } from '../data/sources/index.js';
import { mapLimit } from '../data/concurrency.js';
import { measureImageFile, PropertyCache } from '../validation/properties.js';
import { DEFAULT_VALIDATION_CONFIG } from '../validation/config.js';
import { PROPERTY_NAMES, type PropertyName } from '../validation/types.js';
import { readArtifactJson } from '../tracking/runs.js';
import type { EvaluationReport } from '../evaluation/types.js';
import type { ModelCard } from '../registry/types.js';
import type { Progress } from '../progress/index.js';

export type PropertySamples = Record<PropertyName, number[]>;

export interface TrainingReference {
  dataset: string;
  /** Train images measured. */
  n: number;
  /** Of those, how many came from the validation's property cache (the rest were measured now and cached). */
  fromCache: number;
  values: PropertySamples;
}

export type Unavailable = { unavailable: string };

/** Evenly spaced sample of at most `max` items (deterministic). */
function spread<T>(items: T[], max: number): T[] {
  if (items.length <= max) return items;
  return Array.from({ length: max }, (_, i) => items[Math.floor((i * items.length) / max)]);
}

/**
 * Image properties of the training split of the data set a model was tested on, measured exactly as the validation
 * measures them (its property cache is reused; images it never measured are read from the data set's source,
 * measured and cached). At most `maxImages` train images, evenly spread over the manifest.
 */
export async function loadTrainingReference(
  datasetName: string | null,
  options: { maxImages?: number; onProgress?: Progress } = {},
): Promise<TrainingReference | Unavailable> {
  if (!datasetName) return { unavailable: 'the model card names no data set' };
  let manifest: Awaited<ReturnType<typeof loadDatasetManifest>>;
  try {
    manifest = await loadDatasetManifest(datasetName);
  } catch (err) {
    return { unavailable: `data set "${datasetName}" is not available here: ${(err as Error).message}` };
  }
  const train = spread(
    manifest.filter((e) => e.status === 'ok' && e.split === 'train' && e.sha256),
    options.maxImages ?? 1000,
  );
  if (train.length === 0) return { unavailable: `data set "${datasetName}" has no train split` };
  const cache = new PropertyCache(DEFAULT_VALIDATION_CONFIG.propertySize);
  let source: Awaited<ReturnType<typeof openSource>> | null = null;
  let sourceError: string | null = null;
  const openOnce = async () => {
    if (source || sourceError) return source;
    try {
      source = await openSource((await loadDatasetSummary(datasetName)).source);
    } catch (err) {
      sourceError = (err as Error).message;
    }
    return source;
  };
  let fromCache = 0;
  let done = 0;
  const measured = await mapLimit(train, 4, async (entry) => {
    try {
      const cached = await cache.get(entry.sha256);
      if (cached) {
        fromCache++;
        return cached;
      }
      const src = await openOnce();
      if (!src) return null;
      const buf = await src.read({ path: entry.path, group: entry.group, source: entry.source });
      const props = await measureImageFile(buf, DEFAULT_VALIDATION_CONFIG.propertySize, { width: entry.width, height: entry.height });
      await cache.set(entry.sha256, props);
      return props;
    } catch {
      return null;
    } finally {
      options.onProgress?.(++done, train.length, 'reference properties');
    }
  });
  const ok = measured.filter((m) => m !== null);
  if (ok.length === 0) {
    return { unavailable: `no train image of "${datasetName}" could be measured${sourceError ? `: ${sourceError}` : ''}` };
  }
  const values = Object.fromEntries(PROPERTY_NAMES.map((p) => [p, ok.map((m) => m[p])])) as PropertySamples;
  return { dataset: datasetName, n: ok.length, fromCache, values };
}

/** Binned test-split predictions of a model: bins over [0, 1] with counts (from its run's evaluation report). */
export interface PredictionReference {
  source: string;
  /** Bin edges, length bins + 1, from 0 to 1. */
  edges: number[];
  counts: number[];
  n: number;
}

/**
 * The distribution of the model's predictions on its test split, from the calibration histogram of the evaluation
 * report its run wrote (the run's `evaluation.json` artifact).
 */
export async function loadPredictionReference(card: ModelCard): Promise<PredictionReference | Unavailable> {
  if (!card.runId) return { unavailable: 'the model was registered without a run, so no test predictions are stored' };
  let report: EvaluationReport;
  try {
    report = await readArtifactJson<EvaluationReport>(card.runId, 'evaluation.json');
  } catch (err) {
    return { unavailable: `cannot read the evaluation of run ${card.runId}: ${(err as Error).message}` };
  }
  const bins = report.test?.calibration?.bins ?? [];
  if (bins.length === 0) return { unavailable: `the evaluation of run ${card.runId} has no calibration histogram` };
  const edges = [bins[0].lo, ...bins.map((b) => b.hi)];
  const counts = bins.map((b) => b.count);
  return { source: `run ${card.runId} (test split)`, edges, counts, n: counts.reduce((a, b) => a + b, 0) };
}
