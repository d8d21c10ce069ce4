import { paths } from '../storage/paths.js';
import { loadPreparedDataset } from '../data/ingest.js';
import { averagePrecision, metricsAt } from '../evaluation/classification-metrics.js';
import { rocAuc } from '../stats/roc-auc.js';
import { predictProbabilities } from '../model/predict.js';
import { isAlreadyPromoted, listVersions, promote, readPromoted, registerFromRun } from '../registry/index.js';
import type { Decision, ModelCard, PromotedModel, PromotionPolicy } from '../registry/types.js';
import { publishIfConfigured, type PublishResult } from '../registry/publish.js';
import type { Log } from '../progress/index.js';
import { OutdatedBackboneViewError } from '../model/backbone-layer.js';
import { loadRegisteredModel } from './registered-model.js';

export interface GateDecisionOptions {
  policy?: Partial<PromotionPolicy>;
  /** Rebuild the report site's data after the decision. */
  refreshSite?: () => Promise<void>;
  log?: Log;
}

export interface GateDecisionResult {
  version: PromotedModel;
  decision: Decision | null;
  /** Set when the candidate already was the promoted model (a cached re-run). */
  alreadyPromoted: boolean;
  /** What was published to S3 (AREYOUACAT_S3_BUCKET set), else null. */
  published: PublishResult | null;
}

/**
 * Register a finished training run as a new version (once: a run already registered is reused), let the gate
 * decide against the current champion (re-measured on the candidate's test set when the two were tested on
 * different data), promote when it passes, refresh the site and publish. Deploy and fine-tune both end here.
 */
export async function registerAndDecide(runId: string, datasetName: string, opts: GateDecisionOptions = {}): Promise<GateDecisionResult> {
  const log = opts.log ?? (() => {});
  const { versions } = await listVersions();
  let version = versions.find((v) => v.card.runId === runId);
  if (version) log(`registry: run ${runId} is already v${version.version}`);
  else {
    version = await registerFromRun(runId);
    log(`registry: registered run ${runId} as v${version.version}`);
  }
  let decision: Decision | null = null;
  let alreadyPromoted = false;
  const champion = await readPromoted();
  let championOnCandidateTest: ModelCard | undefined;
  if (champion && champion.version !== version.version && champion.card.dataset.manifestHash !== version.card.dataset.manifestHash) {
    championOnCandidateTest = await remeasureChampion(champion, datasetName, version.card.dataset.manifestHash);
    const m = championOnCandidateTest?.metrics;
    if (m) log(`gate: champion v${champion.version} re-measured on the candidate's test set: precision ${m.precision.toFixed(3)} recall ${m.recall.toFixed(3)} f1 ${m.f1.toFixed(3)}`);
  }
  try {
    decision = await promote(version.version, { policy: opts.policy, championOnCandidateTest });
    log(`gate: ${decision.action} v${version.version}: ${decision.reasons.join('; ')}`);
  } catch (err) {
    if (!isAlreadyPromoted(err)) throw err;
    alreadyPromoted = true;
    log(`gate: v${version.version} is already the promoted model`);
  }
  if (opts.refreshSite) {
    log('site: refreshing the report data');
    await opts.refreshSite();
  }
  // Replicas (serve --model-from) follow the promoted model through its published copy.
  const published = await publishIfConfigured({ log });
  return { version, decision, alreadyPromoted, published };
}

/**
 * The champion's card with its metrics measured again on another data set's test split (its own model and
 * threshold), so the gate compares both models on the same photos.
 */
async function remeasureChampion(champion: PromotedModel, datasetName: string, manifestHash: string): Promise<ModelCard | undefined> {
  const data = await loadPreparedDataset(datasetName);
  if (data.size !== champion.card.imageSize) return undefined; // a different input size: not comparable this way
  let registered;
  try {
    registered = await loadRegisteredModel(champion.version);
  } catch (err) {
    // A champion trained on the former centre-square features cannot run on the whole views: its card is what remains.
    if (err instanceof OutdatedBackboneViewError) return undefined;
    throw err;
  }
  try {
    const probs = await predictProbabilities(registered.model, data.test, 64, { featureCacheDir: paths.featureCache() });
    const m = metricsAt(data.test.labels, probs, champion.card.threshold);
    return {
      ...champion.card,
      dataset: { name: datasetName, manifestHash },
      metrics: { ...champion.card.metrics, precision: m.precision ?? 0, recall: m.recall ?? 0, f1: m.f1 ?? 0, accuracy: m.accuracy ?? 0, rocAuc: rocAuc(data.test.labels, probs), prAuc: averagePrecision(data.test.labels, probs) },
    };
  } finally {
    registered.model.dispose();
  }
}
