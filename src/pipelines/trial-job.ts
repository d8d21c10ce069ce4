import { mapLimit } from '../data/concurrency.js';
import type { PreparedSplit } from '../data/types.js';
import { getContent, putContent } from '../jobs/content-store.js';
import { openFeatureStore } from '../jobs/feature-store.js';
import { DeterministicJobError, type JobContext } from '../jobs/job.js';
import type { FeatureMatrix } from '../model/backbone-features.js';
import { backboneSpec } from '../model/backbones.js';
import { loadModelBundle, modelBundle } from '../model/bundle.js';
import { validateHyperparameters } from '../model/cnn.js';
import { trainModel } from '../model/train.js';
import type { TrialData, TrialFeatureSplit, TrialTask, TrialTaskResult } from './trial-task.js';

/** Job kind of one stint of one tuning trial. */
export const TRIAL_KIND = 'tuning-trial';

function checkTask(task: TrialTask): void {
  const { epochs, hyperparameters } = task.settings ?? {};
  if (!Number.isInteger(epochs) || epochs < 1) throw new DeterministicJobError(`trial ${task.runName}: epochs must be an integer >= 1, got ${epochs}`);
  if (!hyperparameters || typeof hyperparameters !== 'object') throw new DeterministicJobError(`trial ${task.runName}: no hyperparameters`);
  try {
    validateHyperparameters(hyperparameters);
  } catch (err) {
    throw new DeterministicJobError(`trial ${task.runName}: ${(err as Error).message}`);
  }
  const data = task.data as TrialData | undefined;
  if (!data || (data.kind !== 'features' && data.kind !== 'pixels')) throw new DeterministicJobError(`trial ${task.runName}: no training data in the job`);
}

// A worker keeps the feature rows it fetched: the trials of one tuning run all read the same ones.
const rows = new Map<string, Float32Array>();
const MAX_ROWS = 200_000;

async function featureRows(data: Extract<TrialData, { kind: 'features' }>, keys: string[]): Promise<FeatureMatrix> {
  const BACKBONE_FEATURES = backboneSpec(data.backbone).features;
  const store = openFeatureStore(data.cache);
  const missing = [...new Set(keys.filter((k) => !rows.has(k)))];
  if (missing.length && !store) throw new DeterministicJobError(`trial: ${missing.length} feature rows neither in the job nor in a cache`);
  if (missing.length && rows.size + missing.length > MAX_ROWS) rows.clear();
  await mapLimit(missing, 16, async (key) => {
    const row = await store!.get(key, BACKBONE_FEATURES);
    if (!row) throw new DeterministicJobError(`trial: feature row ${key} is not in ${store!.where}`);
    rows.set(key, row);
  });
  const out = new Float32Array(keys.length * BACKBONE_FEATURES);
  keys.forEach((k, i) => out.set(rows.get(k)!, i * BACKBONE_FEATURES));
  return { n: keys.length, dim: BACKBONE_FEATURES, data: out };
}

function split(size: number, labels: number[], pixels: Uint8Array): PreparedSplit {
  const n = labels.length;
  return { size, n, pixels, labels: Uint8Array.from(labels), groups: new Array<string>(n).fill(''), paths: new Array<string>(n).fill('') };
}

/** The splits (and, on a backbone, their features) a trial trains on, from the content the job names. */
async function trialInputs(data: TrialData): Promise<{ train: PreparedSplit; val: PreparedSplit; features?: { train: FeatureMatrix[]; val: FeatureMatrix; valMirrored: FeatureMatrix } }> {
  if (data.kind === 'pixels') {
    const [train, val] = await Promise.all([getContent(data.train.pixels), getContent(data.val.pixels)]);
    return { train: split(data.size, data.train.labels, train), val: split(data.size, data.val.labels, val) };
  }
  const views: Array<[TrialFeatureSplit, string[]]> = [[data.train, data.train.keys]];
  if (data.train.mirroredKeys) views.push([data.train, data.train.mirroredKeys]);
  views.push([data.val, data.val.keys]);
  if (!data.val.mirroredKeys) throw new DeterministicJobError('trial: the job names no mirrored validation features (a coordinator of another version)');
  views.push([data.val, data.val.mirroredKeys]);
  let matrices: FeatureMatrix[];
  const BACKBONE_FEATURES = backboneSpec(data.backbone).features;
  if (data.rows) {
    const buf = Buffer.from(data.rows, 'base64');
    const all = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    let at = 0;
    matrices = views.map(([, keys]) => {
      const m = { n: keys.length, dim: BACKBONE_FEATURES, data: all.subarray(at, at + keys.length * BACKBONE_FEATURES) };
      at += keys.length * BACKBONE_FEATURES;
      return m;
    });
    if (at !== all.length) throw new DeterministicJobError(`trial: the job carries ${all.length} feature values, its keys name ${at}`);
  } else {
    matrices = [];
    for (const [, keys] of views) matrices.push(await featureRows(data, keys));
  }
  const none = new Uint8Array(0);
  return {
    train: split(data.size, data.train.labels, none),
    val: split(data.size, data.val.labels, none),
    features: { train: matrices.slice(0, -2), val: matrices[matrices.length - 2], valMirrored: matrices[matrices.length - 1] },
  };
}

/**
 * The job handler: train `settings.epochs` more epochs of one trial (from the weights `resumeFrom` names, when
 * given) on the data the job names by content, and answer with the validation score, the epochs' metrics and the
 * trained weights. It writes nothing but content-addressed bytes; the coordinator records the stint as a child run
 * of the tuning run, once, when the answer arrives (a retried job leaves no second run behind).
 */
export async function trialJob(task: TrialTask, ctx: JobContext = {}): Promise<TrialTaskResult> {
  checkTask(task);
  const { train, val, features } = await trialInputs(task.data);
  const previous = task.resumeFrom ? await loadModelBundle(await getContent(task.resumeFrom)) : undefined;
  const hp = task.settings.hyperparameters;
  const log = ctx.log ?? (() => {});
  // Progress keeps a long trial alive for the coordinator's idle check; at most one report a second.
  let reported = 0;
  const onProgress = (done: number, total: number) => {
    if (Date.now() - reported < 1000 && done < total) return;
    reported = Date.now();
    ctx.onProgress?.(done, total);
  };
  const started = Date.now();
  const result = await trainModel(hp, train, val, {
    epochs: task.settings.epochs,
    seed: task.settings.seed,
    patience: task.settings.patience,
    classWeight: task.settings.classWeight,
    model: previous,
    features,
    onProgress: ctx.onProgress ? onProgress : undefined,
    callbacks: {
      onEpochEnd: (epoch, logs) => {
        log(`epoch ${epoch + 1}/${task.settings.epochs}: loss ${logs.loss.toFixed(3)} val_loss ${logs.val_loss.toFixed(3)} val_auc ${logs.val_auc.toFixed(3)} (${logs.images_per_second.toFixed(0)} img/s)`);
      },
    },
  });
  const trainMs = Date.now() - started;
  try {
    const score = result.history[result.bestEpoch]?.val_auc;
    if (typeof score !== 'number') throw new DeterministicJobError(`trial ${task.runName} produced no validation AUC`);
    const bundle = await modelBundle(result.model, { imageSize: hp.imageSize, dataset: task.datasetName });
    const model = await putContent(task.store, bundle);
    return { score, history: result.history, bestEpoch: result.bestEpoch, epochsTrained: result.history.length, backend: result.backend, trainMs, model };
  } finally {
    result.model.dispose();
  }
}
