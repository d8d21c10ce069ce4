import { datasetName } from '../data/dataset-name.js';
import { ingestDataset, type IngestResult } from '../data/ingest.js';
import { openSource } from '../data/sources/index.js';
import type { DataSource } from '../data/types.js';
import { openFeedbackStorage, type FeedbackStorage } from '../feedback/storage.js';
import { CombinedSource, FeedbackSource, pullFeedback, type FeedbackPull } from '../feedback/dataset.js';
import { describeFeatureFeedback, featureRows, pullFeatureFeedback, summarizeFeatureFeedback, type FeatureFeedbackPull, type FeatureFeedbackSummary } from '../feedback/feature-dataset.js';
import { FEATURE_RECIPE_VERSION, FEATURE_VIEWS } from '../model/photo-features.js';
import { stableHash } from './stable-hash.js';
import { artifact } from './step.js';
import type { ThresholdStrategy } from '../evaluation/types.js';
import { REFERENCE_HYPERPARAMETERS, withChanges, type CnnHyperparameters } from '../model/cnn.js';
import { backboneSpec, DEFAULT_PHOTO_BACKBONE } from '../model/backbones.js';
import { ensureModelFiles } from '../model-files/index.js';
import { imageFeatures } from '../model/backbone-features.js';
import { photosOf } from '../model/photo-features.js';
import { computeFeaturesWithJobs } from '../jobs/feature-jobs.js';
import type { Executor } from '../jobs/job.js';
import { prepareImagesWithJobs } from '../jobs/prepared-pixel-jobs.js';
import { resolveAugmentation } from '../model/augment.js';
import { paths } from '../storage/paths.js';
import { assertValidationGate } from '../validation/gate.js';
import { saveValidationReport } from '../validation/report.js';
import type { ValidationConfigInput } from '../validation/config.js';
import type { ValidationReport } from '../validation/types.js';
import { validateDataset } from '../validation/validate.js';
import { observer, runStep, type StepContext } from './step.js';
import type { TrainRunOutput, TrainRunSettings } from './train-run.js';
import { trainStep, trainStepInput, type FeedbackUse, type TrainStepValues } from './train-step.js';
import { tuneStep, type TuneOptions, type TuneOutput } from './tune-step.js';
import type { Progress, Log } from '../progress/index.js';

/**
 * The CNN the pipeline trains by default: the reference network with augmentation and light dropout. Adam at
 * 2e-3 with dropout 0.2 learned the synthetic set faster than 1e-3/0.3 at every epoch; batch norm is off because
 * it halves training speed on the wasm backend.
 */
export const DEFAULT_HYPERPARAMETERS: CnnHyperparameters = {
  ...REFERENCE_HYPERPARAMETERS,
  learningRate: 2e-3,
  dropout: 0.2,
  augmentation: true,
};

/**
 * The defaults of a run. The CNN from scratch keeps dropout 0.2. A head on a pretrained backbone drops half its
 * inputs and hidden units while training (dropout 0.5). A backbone whose features carry the pretrained classifier's
 * own cat log-odds (the ImageNet backbone) gets a linear correction of them instead of a hidden layer, dropout 0.7,
 * and 5 such heads from consecutive seeds averaged into one: held out one source at a time, the hidden layer called
 * 10-19% of the unseen flowers cats and one head 3-13% depending on its seed, the average of 5 4.4% (see the
 * README's table).
 */
export function defaultHyperparameters(backbone: string | null | undefined): CnnHyperparameters {
  if (!backbone) return DEFAULT_HYPERPARAMETERS;
  if (backboneSpec(backbone).priorColumn !== undefined) return { ...DEFAULT_HYPERPARAMETERS, denseUnits: 0, dropout: 0.7, averagedHeads: 5 };
  return { ...DEFAULT_HYPERPARAMETERS, dropout: 0.5 };
}

/** Input size (the whole view's shorter side) of a model on `backbone`: each backbone's own default. */
export function backboneImageSize(backbone: string): number {
  return backboneSpec(backbone).defaultImageSize;
}

/**
 * The model a data spec gets by default: photos (folders, S3) get the default frozen backbone (`DEFAULT_PHOTO_BACKBONE`) with a trained head;
 * the built-in synthetic set (drawn shapes, not photos) gets the CNN trained from scratch.
 */
export function defaultBackbone(spec: string): string | null {
  return spec.startsWith('synthetic') ? null : DEFAULT_PHOTO_BACKBONE;
}

export interface TrainPipelineOptions {
  /** Data source spec: a folder, `s3://bucket/prefix` or `synthetic[:seed=..,n=..]`. */
  data: string;
  /** Data set name; default derived from the spec. */
  name?: string;
  /** Side of the square input images; default the backbone's own (224 or 256), else 64. */
  size?: number;
  /** Pretrained backbone (`'imagenet-mobilenet-v1'`, `'coco-centernet'`) or null for the CNN from scratch; default `defaultBackbone(data)`. */
  backbone?: string | null;
  mix?: Record<string, number>;
  n?: number;
  seed?: number;
  epochs?: number;
  patience?: number;
  hyperparameters?: Partial<CnnHyperparameters>;
  classWeight?: 'balanced' | null;
  threshold?: ThresholdStrategy;
  validation?: ValidationConfigInput;
  /** Failing validation checks to let through (recorded with the run). */
  allowChecks?: string[];
  tune?: TuneOptions | null;
  /** Add consented feedback photos from S3 to the data (labels from the users' answers, after a consistency check). */
  includeFeedback?: boolean;
  force?: boolean;
  /** Where the heavy jobs (backbone features, tuning trials) run: a BullMQ queue or a local pool; default a local pool. */
  executor?: Executor;
  /** Size of the default local pool (default: one process per core). */
  workers?: number;
  log?: Log;
  onProgress?: (stage: string) => Progress | undefined;
}

export interface TrainPipelineResult {
  dataset: IngestResult['summary'];
  validation: { file: string; summary: ValidationReport['summary']; warnings: string[]; allowed: string[] };
  tuning: TuneOutput | null;
  run: TrainRunOutput & { cached: boolean };
  feedback: FeedbackPull | null;
  /** Feedback kept as features only (no photo): used for the head directly; other backbones or recipes refused. */
  featureFeedback: FeatureFeedbackSummary | null;
}

/** The feedback photos a pull put into the data, by record id. */
function feedbackUse(pull: FeedbackPull): FeedbackUse {
  return {
    used: pull.used.map((u) => ({ id: u.record.id, group: u.group })),
    excluded: pull.excluded.map((x) => x.id),
    suspicious: pull.suspicious.map((x) => x.id),
  };
}

/**
 * The training pipeline: ingest (manifest, mix, split, prepared cache) -> validate (a failing check stops the
 * run unless allowed) -> tune (optional) -> train and evaluate in a tracked run. The tune and train steps are
 * cached by the hash of their explicit inputs (data set, source, settings, validation report, feedback, parent
 * run), so a second identical run reuses the finished run and any change runs the step again.
 */
export async function runTrainingPipeline(opts: TrainPipelineOptions): Promise<TrainPipelineResult> {
  const log = opts.log ?? (() => {});
  const ctx: StepContext = { log, force: opts.force };
  let name = datasetName(opts);
  const seed = opts.seed ?? 1;
  let source = await openSource(opts.data);
  let feedback: FeedbackPull | null = null;
  let feedbackStorage: FeedbackStorage | null = null;
  if (opts.includeFeedback) {
    feedbackStorage = await openFeedbackStorage(log);
    feedback = await pullFeedback(feedbackStorage.store, feedbackStorage.bucket);
    log(`feedback: ${feedback.used.length} photos used, ${feedback.excluded.length} excluded, ${feedback.suspicious.length} flagged as suspicious`);
    for (const x of feedback.excluded) log(`feedback excluded ${x.id}: ${x.reason}`);
    for (const x of feedback.suspicious) log(`feedback suspicious ${x.id}: ${x.reason}`);
    source = new CombinedSource([source, new FeedbackSource(feedbackStorage.store, feedbackStorage.bucket, feedback)]);
    name = `${name}-with-feedback`;
  }
  try {
    return await trainOn(opts, name, seed, source, feedback, feedbackStorage, ctx, log);
  } finally {
    await feedbackStorage?.localS3?.stop();
  }
}

async function trainOn(
  opts: TrainPipelineOptions,
  name: string,
  seed: number,
  source: DataSource,
  feedback: FeedbackPull | null,
  feedbackStorage: FeedbackStorage | null,
  ctx: StepContext,
  log: Log,
): Promise<TrainPipelineResult> {

  log(`data: ingesting ${source.id} as "${name}"`);
  const backbone = opts.hyperparameters?.backbone !== undefined ? opts.hyperparameters.backbone : opts.backbone !== undefined ? opts.backbone : defaultBackbone(opts.data);
  // The backbone's files before anything else: a missing download fails in seconds, not after ingest and validation.
  if (backbone) await ensureModelFiles(backbone, { log });
  // Feedback photos live in this process's combined source, which workers cannot open: prepare those here.
  const prepareImages = opts.executor && !feedback ? prepareImagesWithJobs(opts.executor, opts.data, { onProgress: opts.onProgress?.('prepare') }) : undefined;
  const ingested = await ingestDataset({ source, name, size: opts.size ?? (backbone ? backboneImageSize(backbone) : 64), mix: opts.mix, n: opts.n, seed, prepareImages, onProgress: opts.onProgress?.('prepare') });
  const data = ingested.prepared;
  const s = ingested.summary;
  log(`data: ${s.accepted}/${s.files} accepted, ${s.rejected} rejected, ${s.selected} selected (train ${data.train.n}, val ${data.val.n}, test ${data.test.n})`);

  log('validation: checking the data');
  const report = await validateDataset({
    dataset: name,
    entries: ingested.manifest,
    readImage: (e) => source.read({ path: e.path, group: e.group, source: e.source }),
    prepared: data,
    backbone,
    config: { ...(opts.validation ?? {}), ...(opts.mix ? { mix: opts.mix } : {}) },
    onProgress: opts.onProgress?.('validate'),
  });
  const validationFile = await saveValidationReport(report);
  const gate = assertValidationGate(report, { allow: opts.allowChecks });
  for (const w of gate.warnings) log(`validation warning: ${w.id}: ${w.summary}`);
  for (const a of gate.allowed) log(`validation failure allowed by --allow-check: ${a.id}: ${a.summary}`);

  const base: TrainRunSettings = {
    hyperparameters: { ...withChanges(defaultHyperparameters(backbone), opts.hyperparameters ?? {}), backbone, imageSize: data.size },
    epochs: opts.epochs ?? 20,
    patience: opts.patience ?? 4,
    seed,
    classWeight: opts.classWeight === undefined ? 'balanced' : opts.classWeight,
    threshold: opts.threshold ?? { kind: 'balanced' },
  };

  if (backbone) {
    // Once here, so that tuning trials (parallel processes), training and evaluation read the same cached features.
    log(`model: frozen ${backbone} backbone at ${data.size}px with a trained head; computing backbone features`);
    const started = Date.now();
    const cacheDir = paths.featureCache();
    const progress = opts.onProgress?.('features');
    const flip = resolveAugmentation(base.hyperparameters.augmentation)?.flip ?? false;
    // Whole views of the source photos; mirrored ones for training (flip augmentation) and for the test-time mean of
    // plain and mirrored that every prediction of a backbone model is.
    const all = [[data.train, false], [data.train, true], [data.val, false], [data.val, true], [data.test, false], [data.test, true]] as const;
    const views = all.filter(([split, mirrored]) => flip || !mirrored || split !== data.train);
    if (feedback) {
      // Feedback photos live in this process's combined source, which workers cannot open: compute here.
      const photos = photosOf(source);
      for (const [split, mirrored] of views) await imageFeatures(split, { backbone, cacheDir, flip: mirrored, photos, onProgress: progress });
    } else {
      const jobViews = views.map(([images, mirrored]) => ({ images, flip: mirrored }));
      await computeFeaturesWithJobs({ backbone, views: jobViews, sourceSpec: opts.data, executor: opts.executor, workers: opts.workers, cacheDir, onProgress: progress, log });
    }
    log(`model: backbone features ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }

  let featureFeedback: FeatureFeedbackPull | null = null;
  let featureInput: TrainStepValues['featureFeedback'] = null;
  if (feedbackStorage) {
    const flip = resolveAugmentation(base.hyperparameters.augmentation)?.flip ?? false;
    const views = FEATURE_VIEWS.filter((v) => flip || v === 'plain');
    // A head on another backbone (or none) cannot use these numbers: every record is then refused, and counted.
    const identity = { backbone: backbone ?? 'none (a CNN trained from scratch)', recipe: FEATURE_RECIPE_VERSION, imageSize: data.size, views };
    featureFeedback = await pullFeatureFeedback(feedbackStorage.store, feedbackStorage.bucket, identity);
    log(`feedback kept as features: ${describeFeatureFeedback(featureFeedback)}`);
    for (const x of featureFeedback.excluded) log(`feedback excluded ${x.id}: ${x.reason}`);
    for (const x of featureFeedback.suspicious) log(`feedback suspicious ${x.id}: ${x.reason}`);
    if (featureFeedback.used.length > 0) {
      const rows = featureRows(featureFeedback.used, views);
      const id = stableHash(featureFeedback.used.map((u) => [u.record.id, u.label, u.record.features.hash]));
      featureInput = { summary: describeFeatureFeedback(featureFeedback), rows: artifact(`feature-feedback@${id}`, rows) };
    } else if (featureFeedback.read > 0) {
      featureInput = { summary: describeFeatureFeedback(featureFeedback), rows: null };
    }
  }

  let tuning: TuneOutput | null = null;
  if (opts.tune) {
    log(`tuning: ${opts.tune.trials} trials, ${opts.tune.strategy}, ${opts.tune.minEpochs}-${opts.tune.maxEpochs} epochs`);
    tuning = (await runStep(tuneStep, { tune: opts.tune, base, datasetName: name, datasetKey: data.key, sourceSpec: opts.data, dataset: observer(data), executor: opts.executor && observer(opts.executor) }, ctx)).output;
    if (tuning.bestHyperparameters) {
      base.hyperparameters = tuning.bestHyperparameters;
      log(`tuning: best trial ${tuning.outcome.bestIndex} ${JSON.stringify(tuning.bestParams)}`);
    } else log('tuning: every trial failed; training with the default hyperparameters');
  }

  const input = trainStepInput({
    settings: base,
    dataset: data,
    source,
    report,
    validationFile,
    feedback: feedback ? feedbackUse(feedback) : null,
    featureFeedback: featureInput,
    tuningRunId: tuning?.parentRunId ?? null,
    onProgress: opts.onProgress?.('train'),
  });
  const step = await runStep(trainStep, input, ctx);
  return {
    dataset: s,
    validation: { file: validationFile, summary: report.summary, warnings: gate.warnings.map((w) => w.id), allowed: gate.allowed.map((a) => a.id) },
    tuning,
    run: { ...step.output, cached: step.cached },
    feedback,
    featureFeedback: featureFeedback && summarizeFeatureFeedback(featureFeedback),
  };
}
