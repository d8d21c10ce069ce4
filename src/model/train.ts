import * as tf from '../tfjs/index.js';
import type { PreparedSplit } from '../data/types.js';
import { resolveAugmentation } from './augment.js';
import { selectBackend } from './backend.js';
import { checkSplit, imageBatch, shuffledIndices } from './batches.js';
import { buildCnn, type CnnHyperparameters } from './cnn.js';
import { featureBatch, imageFeatures, type FeatureMatrix } from './backbone-features.js';
import { headOf, pretrainedBackboneOf } from './backbone-layer.js';
import { rocAuc } from '../stats/roc-auc.js';
import { binaryLossAndAccuracy } from './training-metrics.js';
import { meanOfViews, predictProbabilities } from './predict.js';
import type { PhotoReader } from './photo-features.js';
import { seededRandom } from './random.js';
import { stepSeeds } from './dropout-seeds.js';
import { fixFeatureStatistics } from './feature-norm.js';
import { averageLinearHeads } from './averaged-heads.js';
import type { Progress } from '../progress/index.js';

export interface EpochLogs {
  /** Mean weighted training loss over the epoch's batches. */
  loss: number;
  /** Training accuracy (threshold 0.5) over the epoch, with augmentation and dropout active. */
  accuracy: number;
  val_loss: number;
  val_accuracy: number;
  val_auc: number;
  seconds: number;
  images_per_second: number;
}

export interface BatchLogs {
  loss: number;
  accuracy: number;
  size: number;
}

export interface TrainCallbacks {
  onEpochEnd?(epoch: number, logs: EpochLogs): void | Promise<void>;
  onBatchEnd?(batch: number, logs: BatchLogs): void | Promise<void>;
}

export interface TrainOptions {
  epochs: number;
  /** Seeds weight initialisation, shuffling and augmentation. Default 1. */
  seed?: number;
  /** Stop after this many epochs without improvement of `monitor` (default: never stop early). */
  patience?: number;
  monitor?: 'val_loss' | 'val_auc';
  /** Put back the weights of the best epoch when training ends (default true). */
  restoreBestWeights?: boolean;
  /** Per-class loss weights; 'balanced' weighs each class by n / (2 * n_class). Default none. */
  classWeight?: 'balanced' | { 0: number; 1: number } | null;
  /** Continue training this model instead of building a new one from the hyperparameters. */
  model?: tf.LayersModel;
  onProgress?: Progress;
  callbacks?: TrainCallbacks;
  /** Models on a pretrained backbone: keep the images' backbone features here between runs. */
  featureCacheDir?: string;
  /**
   * Models on a pretrained backbone: the splits' backbone features, computed elsewhere (one matrix per training
   * view: plain, then mirrored when augmenting with flips; validation plain and mirrored, as predictions are the
   * mean over both). The splits then need labels only, no pixels.
   */
  features?: { train: FeatureMatrix[]; val: FeatureMatrix; valMirrored: FeatureMatrix };
  /**
   * Models on a pretrained backbone: more training rows given as features only (feedback kept without its photo),
   * one matrix per training view (plain, then mirrored when flipping), appended to the training split's rows.
   */
  extraTrainFeatures?: { views: FeatureMatrix[]; labels: Uint8Array };
  /** Source files of the splits' images, for backbone features the cache does not hold (see `imageFeatures`). */
  photos?: PhotoReader;
}

export interface TrainResult {
  model: tf.LayersModel;
  history: EpochLogs[];
  /** Epoch (0-based) whose weights the model holds at the end. */
  bestEpoch: number;
  stoppedEarly: boolean;
  /** TensorFlow.js backend that trained the model ('tensorflow', 'wasm' or 'cpu'). */
  backend: string;
  classWeight: { 0: number; 1: number };
}

function resolveClassWeight(option: TrainOptions['classWeight'], labels: Uint8Array): { 0: number; 1: number } {
  if (!option) return { 0: 1, 1: 1 };
  if (option === 'balanced') {
    let pos = 0;
    for (const l of labels) pos += l;
    const neg = labels.length - pos;
    if (pos === 0 || neg === 0) throw new Error('classWeight "balanced" needs both classes in the training split');
    return { 0: labels.length / (2 * neg), 1: labels.length / (2 * pos) };
  }
  if (!(option[0] > 0) || !(option[1] > 0)) throw new Error('class weights must be positive numbers');
  return option;
}

function checkFeatures(split: PreparedSplit, views: FeatureMatrix[], what: string): void {
  if (split.labels.length !== split.n) throw new Error(`${what}: ${split.labels.length} labels for ${split.n} images`);
  for (const v of views) if (v.n !== split.n || v.data.length !== v.n * v.dim) throw new Error(`${what}: ${v.n} feature rows for ${split.n} images`);
}

const EPS = 1e-7;

/**
 * One optimisation step on a batch: weighted binary cross-entropy of the model's P(cat) (dropout and batch norm
 * in training mode). Returns the loss and the batch's probabilities; the caller disposes both.
 */
export function trainStep(
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  x: tf.Tensor,
  y: tf.Tensor2D,
  sampleWeights?: tf.Tensor2D,
): { cost: tf.Scalar; probs: tf.Tensor } {
  let probs: tf.Tensor | undefined;
  const trainable = model.trainableWeights.map((v) => v.read() as tf.Variable);
  const cost = optimizer.minimize(
    () => {
      const p = model.apply(x, { training: true }) as tf.Tensor;
      probs = tf.keep(p.clone());
      const pc = p.clipByValue(EPS, 1 - EPS);
      const bce = tf.neg(tf.add(tf.mul(y, tf.log(pc)), tf.mul(tf.sub(1, y), tf.log(tf.sub(1, pc)))));
      const data = tf.mean<tf.Scalar>(sampleWeights ? tf.mul(bce, sampleWeights) : bce);
      // Weight penalties of the layers that have one (kernelRegularizer), as model.fit would add them.
      const penalties = model.calculateLosses();
      return penalties.length ? tf.addN([data, ...penalties]) : data;
    },
    true,
    trainable,
  ) as tf.Scalar;
  return { cost, probs: probs! };
}

/**
 * Train a CNN on a prepared split with per-epoch validation, early stopping (restoring the best weights),
 * class weights and seeded on-the-fly augmentation. Pixels are scaled to [0, 1] here.
 */
export async function trainModel(
  hp: CnnHyperparameters,
  train: PreparedSplit,
  val: PreparedSplit,
  options: TrainOptions,
): Promise<TrainResult> {
  // The backend first, then any model: a head built on TensorFlow.js's initial backend and trained after the
  // switch to wasm trained differently (11 epochs to a head that called 40% of validation dogs cats, against 5 to
  // one that called 1.3%, same seed), so nothing here builds a model before this.
  await selectBackend();
  const k = hp.averagedHeads ?? 1;
  if (k <= 1 || options.model) return trainOnce(hp, train, val, options);
  return trainAveraged(hp, train, val, options, k);
}

/**
 * `k` linear heads from seeds seed, seed + 1, ... on the same features (computed once), averaged into the first
 * (see `averaged-heads.ts`). Epoch callbacks and the history are the first head's; progress counts every head.
 */
async function trainAveraged(hp: CnnHyperparameters, train: PreparedSplit, val: PreparedSplit, options: TrainOptions, k: number): Promise<TrainResult> {
  const seed = options.seed ?? 1;
  const first = buildCnn(hp, seed);
  const backboneLayer = pretrainedBackboneOf(first);
  if (!backboneLayer) {
    first.dispose();
    throw new Error('averagedHeads needs a model on a pretrained backbone');
  }
  const features = options.features ?? (await splitFeatures(backboneLayer.backbone, train, val, hp, options));
  const members: TrainResult[] = [];
  try {
    for (let i = 0; i < k; i++) {
      const onProgress: Progress | undefined = options.onProgress && ((done, total, note) => options.onProgress!(i * total + done, k * total, `head ${i + 1}/${k} ${note ?? ''}`.trim()));
      members.push(
        await trainOnce(hp, train, val, {
          ...options,
          seed: seed + i,
          model: i === 0 ? first : buildCnn(hp, seed + i),
          features,
          onProgress,
          callbacks: i === 0 ? options.callbacks : undefined,
        }),
      );
    }
    averageLinearHeads(first, members.map((m) => m.model));
  } finally {
    for (const m of members.slice(1)) m.model.dispose();
  }
  return { ...members[0], model: first };
}

/** The backbone features of the splits' images: training views (plain, then mirrored when flipping) and validation plain and mirrored. */
async function splitFeatures(
  backbone: string,
  train: PreparedSplit,
  val: PreparedSplit,
  hp: CnnHyperparameters,
  options: TrainOptions,
): Promise<{ train: FeatureMatrix[]; val: FeatureMatrix; valMirrored: FeatureMatrix }> {
  const opts = { backbone, cacheDir: options.featureCacheDir, photos: options.photos, onProgress: options.onProgress };
  const trainViews = [await imageFeatures(train, opts)];
  if (resolveAugmentation(hp.augmentation)?.flip) trainViews.push(await imageFeatures(train, { ...opts, flip: true }));
  return { train: trainViews, val: await imageFeatures(val, opts), valMirrored: await imageFeatures(val, { ...opts, flip: true }) };
}

async function trainOnce(
  hp: CnnHyperparameters,
  train: PreparedSplit,
  val: PreparedSplit,
  options: TrainOptions,
): Promise<TrainResult> {
  if (options.features) {
    checkFeatures(train, options.features.train, 'training split');
    checkFeatures(val, [options.features.val, options.features.valMirrored], 'validation split');
  } else {
    checkSplit(train, 'training split');
    checkSplit(val, 'validation split');
  }
  if (train.size !== hp.imageSize || val.size !== hp.imageSize) {
    throw new Error(`imageSize is ${hp.imageSize} but the splits hold ${train.size}/${val.size}-pixel images`);
  }
  const extra = options.extraTrainFeatures && options.extraTrainFeatures.labels.length > 0 ? options.extraTrainFeatures : null;
  if ((train.n === 0 && !extra) || val.n === 0) throw new Error('training and validation splits must not be empty');
  if (!Number.isInteger(options.epochs) || options.epochs < 1) throw new Error(`epochs must be a positive integer (got ${options.epochs})`);

  const backend = await selectBackend();
  const seed = options.seed ?? 1;
  const model = options.model ?? buildCnn(hp, seed);
  const optimizer = (model.optimizer as tf.Optimizer | undefined) ?? tf.train.adam(hp.learningRate);
  // The training rows: the split's images, then the extra feature rows (when given).
  const trainLabels = extra ? Uint8Array.from([...train.labels, ...extra.labels]) : train.labels;
  const trainN = trainLabels.length;
  const weights = resolveClassWeight(options.classWeight, trainLabels);
  const aug = resolveAugmentation(hp.augmentation);
  const monitor = options.monitor ?? 'val_loss';
  const patience = options.patience ?? Infinity;
  const restore = options.restoreBestWeights ?? true;
  const batchSize = hp.batchSize;
  const batchesPerEpoch = Math.ceil(trainN / batchSize);
  const totalBatches = batchesPerEpoch * options.epochs;

  // On a frozen pretrained backbone only the head learns: the backbone runs once per image (and once more per
  // mirrored image when augmenting) and the epochs train the head on those features. Flips are the only
  // augmentation there; crops and colour changes would need the backbone again every epoch.
  const backboneLayer = pretrainedBackboneOf(model);
  let features: { train: FeatureMatrix[]; val: FeatureMatrix; valMirrored: FeatureMatrix } | null = null;
  const learner = backboneLayer ? headOf(model, backboneLayer) : model;
  if (extra && !backboneLayer) throw new Error('extra training features need a model on a pretrained backbone');
  if (backboneLayer) {
    let trainViews: FeatureMatrix[];
    let valView: FeatureMatrix;
    let valMirrored: FeatureMatrix;
    if (options.features) {
      trainViews = options.features.train;
      valView = options.features.val;
      valMirrored = options.features.valMirrored;
    } else {
      ({ train: trainViews, val: valView, valMirrored } = await splitFeatures(backboneLayer.backbone, train, val, hp, options));
    }
    if (extra) trainViews = trainViews.map((view, i) => appendRows(view, extra.views[Math.min(i, extra.views.length - 1)]));
    features = { train: trainViews, val: valView, valMirrored };
  }

  const history: EpochLogs[] = [];
  let best = monitor === 'val_loss' ? Infinity : -Infinity;
  let bestEpoch = -1;
  let bestWeights: tf.Tensor[] | null = null;
  let stoppedEarly = false;
  let globalBatch = 0;
  const dropout = stepSeeds(learner);
  const statistics = features ? fixFeatureStatistics(learner, features.train) : null;

  try {
    for (let epoch = 0; epoch < options.epochs; epoch++) {
      const started = performance.now();
      const random = seededRandom(`${seed}:epoch:${epoch}`);
      const order = shuffledIndices(trainN, random);
      let lossSum = 0;
      let correct = 0;
      for (let b = 0; b < batchesPerEpoch; b++) {
        const indices = order.subarray(b * batchSize, Math.min(trainN, (b + 1) * batchSize));
        const n = indices.length;
        const labels = new Float32Array(n);
        const sampleWeights = new Float32Array(n);
        for (let i = 0; i < n; i++) {
          labels[i] = trainLabels[indices[i]];
          sampleWeights[i] = labels[i] === 1 ? weights[1] : weights[0];
        }
        dropout.forStep(globalBatch);
        const { cost, probs } = tf.tidy(() => {
          const x = features ? featureBatch(features.train, indices, random) : imageBatch(train, indices, aug, random);
          const y = tf.tensor2d(labels, [n, 1]);
          const w = tf.tensor2d(sampleWeights, [n, 1]);
          return trainStep(learner, optimizer, x, y, w);
        });
        const loss = (await cost.data())[0];
        cost.dispose();
        const p = await probs.data();
        probs.dispose();
        let batchCorrect = 0;
        for (let i = 0; i < n; i++) if ((p[i] >= 0.5 ? 1 : 0) === labels[i]) batchCorrect++;
        if (!Number.isFinite(loss)) throw new Error(`training diverged: loss is ${loss} at epoch ${epoch + 1}, batch ${b + 1}`);
        lossSum += loss * n;
        correct += batchCorrect;
        globalBatch++;
        await options.callbacks?.onBatchEnd?.(b, { loss, accuracy: batchCorrect / n, size: n });
        options.onProgress?.(globalBatch, totalBatches, `epoch ${epoch + 1}/${options.epochs} loss ${loss.toFixed(4)}`);
        // Back to the event loop after each batch: the wasm backend resolves in microtasks, which would otherwise
        // starve timers for a whole epoch (a queue worker's lock renewal: its trial would be taken as stalled).
        await new Promise((resolve) => setImmediate(resolve));
      }
      const valProbs = features ? await meanOfViews(learner, features.val, features.valMirrored) : await predictProbabilities(model, val, Math.max(batchSize, 64));
      const valMetrics = binaryLossAndAccuracy(val.labels, valProbs);
      const seconds = (performance.now() - started) / 1000;
      const logs: EpochLogs = {
        loss: lossSum / trainN,
        accuracy: correct / trainN,
        val_loss: valMetrics.loss,
        val_accuracy: valMetrics.accuracy,
        // Epoch numbers are numbers: a one-class validation split has no AUC (null), logged as NaN, which never
        // wins the val_auc comparison of early stopping.
        val_auc: rocAuc(val.labels, valProbs) ?? NaN,
        seconds,
        images_per_second: trainN / seconds,
      };
      history.push(logs);
      const value = logs[monitor];
      const improved = monitor === 'val_loss' ? value < best : value > best || (bestEpoch < 0 && Number.isNaN(value));
      if (improved || bestEpoch < 0) {
        best = value;
        bestEpoch = epoch;
        if (restore) {
          bestWeights?.forEach((t) => t.dispose());
          bestWeights = model.getWeights().map((t) => t.clone());
        }
      }
      await options.callbacks?.onEpochEnd?.(epoch, logs);
      if (epoch - bestEpoch >= patience) {
        stoppedEarly = epoch < options.epochs - 1;
        break;
      }
    }
    if (restore && bestWeights && bestEpoch !== history.length - 1) model.setWeights(bestWeights);
    if (!restore) bestEpoch = history.length - 1;
  } finally {
    dropout.restore();
    statistics?.restore();
    bestWeights?.forEach((t) => t.dispose());
  }
  return { model, history, bestEpoch, stoppedEarly, backend, classWeight: weights };
}

/** The rows of `a` followed by those of `b` (same width). */
function appendRows(a: FeatureMatrix, b: FeatureMatrix): FeatureMatrix {
  if (b.n > 0 && b.dim !== a.dim) throw new Error(`extra training features have ${b.dim} numbers per row, the backbone gives ${a.dim}`);
  const data = new Float32Array((a.n + b.n) * a.dim);
  data.set(a.data);
  data.set(b.data.subarray(0, b.n * a.dim), a.n * a.dim);
  return { n: a.n + b.n, dim: a.dim, data };
}
