import { loadPreparedDataset } from '../data/ingest.js';
import { openSource } from '../data/sources/index.js';
import { selectImages } from '../data/subset.js';
import type { DataSource } from '../data/types.js';
import { describeFeatureFeedback, featureRows, pullFeatureFeedback, summarizeFeatureFeedback, type FeatureFeedbackPull, type FeatureFeedbackSummary } from '../feedback/feature-dataset.js';
import { openFeedbackStorage } from '../feedback/storage.js';
import { resolveAugmentation } from '../model/augment.js';
import { BACKBONES } from '../model/backbones.js';
import type { CnnHyperparameters } from '../model/cnn.js';
import type { ThresholdStrategy } from '../evaluation/types.js';
import { FEATURE_RECIPE_VERSION, FEATURE_VIEWS } from '../model/photo-features.js';
import { seededRandom } from '../model/random.js';
import { photoFeedbackAsFeatures } from './photo-feedback-features.js';
import { readPromoted } from '../registry/registry.js';
import type { Decision, PromotedModel, PromotionPolicy } from '../registry/types.js';
import type { PublishResult } from '../registry/publish.js';
import { getRun } from '../tracking/runs.js';
import type { Log, Progress } from '../progress/index.js';
import { registerAndDecide } from './gate-decision.js';
import { DEFAULT_HYPERPARAMETERS } from './train-pipeline.js';
import { trainAndEvaluate, type TrainRunOutput } from './train-run.js';

export const DEFAULT_FINETUNE_EPOCHS = 5;
/** Most feedback items one client may contribute to one fine-tune. */
export const DEFAULT_PER_CLIENT_CAP = 50;
/** Learning rate of a fine-tune: half the default training's (the optimizer starts afresh on a trained head). */
export const DEFAULT_FINETUNE_LEARNING_RATE = 1e-3;
/** Replayed training rows per feedback item (at least DEFAULT_MIN_REPLAY): the feedback is at most a third of the rows. */
export const DEFAULT_REPLAY_PER_ITEM = 2;
export const DEFAULT_MIN_REPLAY = 200;

export interface FinetuneOptions {
  /** Epochs over feedback plus replay (default 5; the best epoch on validation is kept). */
  epochs?: number;
  /** Most items per client (by its hash) in this run (default 50). */
  perClientCap?: number;
  /** Rows of the champion's training split replayed with the feedback (default max(200, 2 x feedback), at most all). */
  replay?: number;
  learningRate?: number;
  seed?: number;
  /** Where the champion's photos are (for the run's error gallery); default the source its training run recorded. */
  data?: string;
  policy?: Partial<PromotionPolicy>;
  refreshSite?: () => Promise<void>;
  log?: Log;
  onProgress?: Progress;
}

export interface FinetuneResult {
  champion: { version: number; runId: string };
  /** Feature feedback since the champion's training run, as checked (used, excluded, refused, capped). */
  feedback: FeatureFeedbackSummary;
  /** Null when there was no usable feedback: nothing was trained. */
  run: TrainRunOutput | null;
  replayed: number;
  version: PromotedModel | null;
  decision: Decision | null;
  published: PublishResult | null;
  /** "fine-tuned from vN on K feedback items". */
  summary: string;
}

function hyperparametersOf(params: Record<string, unknown>, backbone: string, imageSize: number, learningRate: number): CnnHyperparameters {
  const hp: Record<string, unknown> = { ...DEFAULT_HYPERPARAMETERS };
  for (const key of Object.keys(DEFAULT_HYPERPARAMETERS)) if (params[key] !== undefined) hp[key] = params[key];
  return { ...(hp as unknown as CnnHyperparameters), backbone, imageSize, learningRate };
}

/** `k` distinct indices out of `n`, seeded, in increasing order. */
function sampleIndices(n: number, k: number, seed: string): Set<number> {
  const random = seededRandom(seed);
  const all = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [all[i], all[j]] = [all[j], all[i]];
  }
  return new Set(all.slice(0, Math.min(n, k)));
}

/**
 * Continual learning from feedback kept as features: start from the promoted model (its head on the frozen
 * backbone), train it a few epochs on the feature feedback received since its training run (checked as for
 * deploy: other backbones or recipes refused and counted, inconsistent answers left out, at most `perClientCap`
 * items per client) mixed with a seeded replay sample of its own training split (so it does not forget), choose the
 * threshold on its validation split and evaluate on its test split, then register the result and let the gate
 * decide against the champion as for a deploy (same test set, so the comparison is direct). A tracked run (tag
 * `kind=finetune`) whose page says "fine-tuned from vN on K feedback items".
 */
export async function runFinetunePipeline(opts: FinetuneOptions = {}): Promise<FinetuneResult> {
  const log = opts.log ?? (() => {});
  const champion = await readPromoted();
  if (!champion) throw new Error('no model is promoted yet: run `areyouacat pipeline deploy` first');
  const { card } = champion;
  if (!card.runId) throw new Error(`v${champion.version} was not registered from a training run: nothing to fine-tune from`);
  const run = await getRun(card.runId);
  if (!run) throw new Error(`the training run ${card.runId} of v${champion.version} is gone from the tracking store`);
  const backboneId = typeof run.params.backbone === 'string' ? run.params.backbone : '';
  if (!BACKBONES.some((b) => b.id === backboneId)) {
    throw new Error(`v${champion.version} has no frozen pretrained backbone (backbone: ${JSON.stringify(run.params.backbone ?? 'none')}); only a head on one can learn from feature feedback`);
  }
  if (!card.dataset.name) throw new Error(`v${champion.version} does not name the data set it was trained on`);
  const data = await loadPreparedDataset(card.dataset.name);
  if (data.key !== card.dataset.manifestHash) throw new Error(`the data set ${card.dataset.name} changed since v${champion.version} was trained (another manifest)`);

  const hp = hyperparametersOf(run.params, backboneId, card.imageSize, opts.learningRate ?? DEFAULT_FINETUNE_LEARNING_RATE);
  const flip = resolveAugmentation(hp.augmentation)?.flip ?? false;
  const views = FEATURE_VIEWS.filter((v) => flip || v === 'plain');
  const cap = opts.perClientCap ?? DEFAULT_PER_CLIENT_CAP;
  const storage = await openFeedbackStorage(log);
  let feedback: FeatureFeedbackPull;
  try {
    // Consented photos count too: their features are computed here, then checked with the features-only answers.
    const photos = await photoFeedbackAsFeatures(storage.store, storage.bucket, { since: run.startedAt, backbone: backboneId, imageSize: card.imageSize, log });
    feedback = await pullFeatureFeedback(storage.store, storage.bucket, { backbone: backboneId, recipe: FEATURE_RECIPE_VERSION, imageSize: card.imageSize, views }, { since: run.startedAt, perClientCap: cap, extraRecords: photos.records });
    feedback.excluded.push(...photos.excluded);
  } finally {
    await storage.localS3?.stop();
  }
  log(`finetune: feedback since v${champion.version}'s training run (${run.startedAt}): ${describeFeatureFeedback(feedback)}`);
  for (const x of feedback.excluded) log(`feedback excluded ${x.id}: ${x.reason}`);
  for (const x of feedback.suspicious) log(`feedback suspicious ${x.id}: ${x.reason}`);
  const k = feedback.used.length;
  const summary = `fine-tuned from v${champion.version} on ${k} feedback items`;
  const base = { champion: { version: champion.version, runId: card.runId }, feedback: summarizeFeatureFeedback(feedback), replayed: 0, summary };
  if (k === 0) {
    log(`finetune: no usable feedback since v${champion.version}'s training run; nothing to train`);
    return { ...base, run: null, version: null, decision: null, published: null, summary: `nothing to fine-tune v${champion.version} on` };
  }

  const replayN = Math.min(data.train.n, opts.replay ?? Math.max(DEFAULT_MIN_REPLAY, DEFAULT_REPLAY_PER_ITEM * k));
  const seed = opts.seed ?? 1;
  // Seeded by what the champion was trained on, not by its run id (random), so a fine-tune can be repeated.
  const chosen = sampleIndices(data.train.n, replayN, `finetune:${seed}:${card.dataset.manifestHash}:v${card.version}`);
  const replay = selectImages([data.train], (_s, i) => chosen.has(i));
  let source: DataSource;
  const spec = opts.data ?? run.tags.source;
  try {
    source = await openSource(spec);
  } catch (err) {
    throw new Error(`cannot open the photos of v${champion.version}'s data (${spec}) for the run's error gallery: ${(err as Error).message}; pass --data`);
  }
  log(`finetune: ${summary}, with ${replay.n} of its ${data.train.n} training photos replayed, ${opts.epochs ?? DEFAULT_FINETUNE_EPOCHS} epochs`);
  const out = await trainAndEvaluate({
    hyperparameters: hp,
    epochs: opts.epochs ?? DEFAULT_FINETUNE_EPOCHS,
    patience: opts.epochs ?? DEFAULT_FINETUNE_EPOCHS,
    seed,
    classWeight: 'balanced',
    // The champion's own threshold strategy, recorded with its training run.
    threshold: (run.params.threshold as unknown as ThresholdStrategy | undefined) ?? { kind: 'balanced' },
    name: 'finetune',
    // The champion's data set: its validation split chooses the threshold and its test split scores the candidate.
    dataset: { ...data, train: replay },
    source,
    resumeFrom: champion.dir,
    // All the epochs, not the one best on validation: going back to the first epoch would quietly drop most of what
    // the feedback says (poisoned or not); the gate on the test split is what decides whether it is kept.
    restoreBestWeights: false,
    extraTrainFeatures: featureRows(feedback.used, views),
    tags: {
      kind: 'finetune',
      finetune: summary,
      finetunedFrom: `v${champion.version}`,
      feedbackItems: String(k),
      featureFeedback: describeFeatureFeedback(feedback),
      replay: `${replay.n} of ${data.train.n} training photos`,
      perClientCap: `${cap} per client (${feedback.capped.dropped} items over it, from ${feedback.capped.clients} clients)`,
    },
    onProgress: opts.onProgress,
    log,
  });
  const decided = await registerAndDecide(out.runId, data.name, { policy: opts.policy, refreshSite: opts.refreshSite, log });
  return { ...base, replayed: replay.n, run: out, version: decided.version, decision: decided.decision, published: decided.published };
}
