import * as tf from '../tfjs/index.js';
import type { AugmentationOptions } from './augment.js';
import { BACKBONE_VIEW } from './backbone.js';
import { backboneSpec } from './backbones.js';
import { PretrainedBackbone } from './backbone-layer.js';
import { FEATURE_NORM } from './feature-norm.js';

/** Everything that defines a CNN and how it is trained; tuning searches over these. */
export interface CnnHyperparameters {
  /** Input images are imageSize x imageSize x 3. */
  imageSize: number;
  /** Number of conv blocks (conv, optional batch norm, ReLU, 2x2 max-pool). */
  convBlocks: number;
  /** Filters of the first block (doubled each block), or one count per block. */
  filters: number | number[];
  kernelSize: number;
  batchNorm: boolean;
  /** Dropout rate before the dense layers (0 = none). */
  dropout: number;
  /** Units of the hidden ReLU layer of the head; 0 for none (the head is then linear in its inputs). */
  denseUnits: number;
  /**
   * Weight penalty (L2: l2 x the sum of squared weights) on the dense kernels of the head, added to the training
   * loss; default 0 (none).
   */
  l2?: number;
  /**
   * Heads on a pretrained backbone with no hidden layer (denseUnits 0): train this many from consecutive seeds and
   * average them into one linear head of the same size (the mean of their logits; see `averaged-heads.ts`). One
   * head depends on its seed most on photos unlike the training photos; the average much less. Default 1.
   */
  averagedHeads?: number;
  learningRate: number;
  batchSize: number;
  /** Random flips, crops, brightness and contrast while training (true = defaults). */
  augmentation: boolean | AugmentationOptions;
  /**
   * A frozen pretrained backbone (`'imagenet-mobilenet-v1'` or `'coco-centernet'`, see `backbones.ts`) under a trained head (batch norm, dropout, dense, sigmoid)
   * instead of conv blocks trained from scratch; the conv settings are then unused. Default none.
   */
  backbone?: string | null;
}

/**
 * `base` with `changes` applied, as a run's hyperparameters are its defaults with the user's or a tuning trial's
 * changes. A hidden layer chosen without saying how many heads to average trains one head: only linear heads
 * average into one (`averagedHeads`), so a default of several must not turn that choice into an error.
 */
export function withChanges(base: CnnHyperparameters, changes: Partial<CnnHyperparameters>): CnnHyperparameters {
  const hp = { ...base, ...changes };
  if (hp.denseUnits > 0 && changes.averagedHeads === undefined && (hp.averagedHeads ?? 1) > 1) hp.averagedHeads = 1;
  return hp;
}

/** The reference CNN of the benchmarks: 3 blocks of 16/32/64 3x3 filters, dense 64, 64x64 input, batch 32. */
export const REFERENCE_HYPERPARAMETERS: CnnHyperparameters = {
  imageSize: 64,
  convBlocks: 3,
  filters: [16, 32, 64],
  kernelSize: 3,
  batchNorm: false,
  dropout: 0,
  denseUnits: 64,
  learningRate: 1e-3,
  batchSize: 32,
  augmentation: false,
};

export function filtersPerBlock(hp: Pick<CnnHyperparameters, 'convBlocks' | 'filters'>): number[] {
  if (Array.isArray(hp.filters)) {
    if (hp.filters.length !== hp.convBlocks) {
      throw new Error(`filters lists ${hp.filters.length} counts but convBlocks is ${hp.convBlocks}`);
    }
    return hp.filters;
  }
  return Array.from({ length: hp.convBlocks }, (_, i) => (hp.filters as number) * 2 ** i);
}

export function validateHyperparameters(hp: CnnHyperparameters): void {
  const problems: string[] = [];
  const positiveInt = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 1) problems.push(`${name} must be a positive integer (got ${v})`);
  };
  positiveInt('imageSize', hp.imageSize);
  positiveInt('convBlocks', hp.convBlocks);
  positiveInt('kernelSize', hp.kernelSize);
  if (!Number.isInteger(hp.denseUnits) || hp.denseUnits < 0) problems.push(`denseUnits must be a whole number, 0 for no hidden layer (got ${hp.denseUnits})`);
  positiveInt('batchSize', hp.batchSize);
  if (!(hp.dropout >= 0 && hp.dropout < 1)) problems.push(`dropout must be in [0, 1) (got ${hp.dropout})`);
  if (hp.l2 !== undefined && !(hp.l2 >= 0)) problems.push(`l2 must be >= 0 (got ${hp.l2})`);
  if (hp.averagedHeads !== undefined) {
    if (!Number.isInteger(hp.averagedHeads) || hp.averagedHeads < 1) problems.push(`averagedHeads must be a positive integer (got ${hp.averagedHeads})`);
    else if (hp.averagedHeads > 1 && (!hp.backbone || hp.denseUnits !== 0)) {
      problems.push(`averagedHeads ${hp.averagedHeads} needs a linear head on a pretrained backbone (a backbone and denseUnits 0; got ${hp.backbone ? `denseUnits ${hp.denseUnits}` : 'no backbone'})`);
    }
  }
  if (!(hp.learningRate > 0)) problems.push(`learningRate must be > 0 (got ${hp.learningRate})`);
  if (hp.backbone) {
    try {
      backboneSpec(hp.backbone).checkImageSize(hp.imageSize);
    } catch (e) {
      problems.push((e as Error).message);
    }
  } else if (problems.length === 0) {
    filtersPerBlock(hp).forEach((f, i) => positiveInt(`filters[${i}]`, f));
    if (hp.imageSize >> hp.convBlocks < 1) {
      problems.push(`imageSize ${hp.imageSize} is too small for ${hp.convBlocks} pooling blocks`);
    }
  }
  if (problems.length) throw new Error(`invalid hyperparameters: ${problems.join('; ')}`);
}

/**
 * Build (and compile) the CNN: conv blocks, flatten, optional dropout, a ReLU dense layer and one sigmoid unit
 * giving P(cat). Inputs are RGB scaled to [0, 1].
 */
export function buildCnn(hp: CnnHyperparameters, seed = 1): tf.LayersModel {
  validateHyperparameters(hp);
  if (hp.backbone) return buildBackboneClassifier(hp, seed);
  const model = tf.sequential({ name: 'areyouacat_cnn' });
  let s = seed;
  const init = () => tf.initializers.glorotUniform({ seed: s++ });
  filtersPerBlock(hp).forEach((filters, i) => {
    model.add(
      tf.layers.conv2d({
        ...(i === 0 ? { inputShape: [hp.imageSize, hp.imageSize, 3] } : {}),
        filters,
        kernelSize: hp.kernelSize,
        padding: 'same',
        useBias: !hp.batchNorm,
        activation: hp.batchNorm ? 'linear' : 'relu',
        kernelInitializer: init(),
        name: `conv${i + 1}`,
      }),
    );
    if (hp.batchNorm) {
      model.add(tf.layers.batchNormalization({ name: `bn${i + 1}` }));
      model.add(tf.layers.activation({ activation: 'relu', name: `relu${i + 1}` }));
    }
    model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `pool${i + 1}` }));
  });
  model.add(tf.layers.flatten({ name: 'flatten' }));
  addClassifierHead(model, hp, () => s++);
  return model;
}

/**
 * The layers every model here ends with, added and compiled: optional dropout, a ReLU dense layer, optional
 * dropout and one sigmoid unit giving P(cat). `nextSeed` continues the caller's seed sequence.
 */
/** The dense layers' weight penalty (hp.l2), as layer options. */
function penaltyOf(hp: CnnHyperparameters): { kernelRegularizer?: ReturnType<typeof tf.regularizers.l2> } {
  return hp.l2 ? { kernelRegularizer: tf.regularizers.l2({ l2: hp.l2 }) } : {};
}

function addClassifierHead(model: tf.Sequential, hp: CnnHyperparameters, nextSeed: () => number): void {
  const init = () => tf.initializers.glorotUniform({ seed: nextSeed() });
  if (hp.dropout > 0) model.add(tf.layers.dropout({ rate: hp.dropout, seed: nextSeed(), name: 'dropout1' }));
  if (hp.denseUnits > 0) {
    model.add(tf.layers.dense({ units: hp.denseUnits, activation: 'relu', kernelInitializer: init(), ...penaltyOf(hp), name: 'dense1' }));
    if (hp.dropout > 0) model.add(tf.layers.dropout({ rate: hp.dropout, seed: nextSeed(), name: 'dropout2' }));
  }
  model.add(tf.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: init(), ...penaltyOf(hp), name: 'p_cat' }));
  model.compile({ optimizer: tf.train.adam(hp.learningRate), loss: 'binaryCrossentropy', metrics: ['accuracy'] });
}

/**
 * The head over features with a prior column (the pretrained classifier's own cat log-odds): P(cat) =
 * sigmoid(prior + correction), the correction a batch-normed, dropout, ReLU dense and linear unit over all features,
 * starting at zero. It trains like any head; where the training photos say nothing (an animal none of them shows),
 * the correction stays small and the pretrained classifier's answer stands. One nested model, so the classifier
 * stays backbone + head and `headOf` finds it as one layer.
 */
function priorCorrectionHead(hp: CnnHyperparameters, width: number, priorColumn: number, nextSeed: () => number): tf.LayersModel {
  const init = () => tf.initializers.glorotUniform({ seed: nextSeed() });
  const features = tf.input({ shape: [width], name: 'features' });
  let h = tf.layers.batchNormalization({ name: FEATURE_NORM }).apply(features) as tf.SymbolicTensor;
  if (hp.dropout > 0) h = tf.layers.dropout({ rate: hp.dropout, seed: nextSeed(), name: 'dropout1' }).apply(h) as tf.SymbolicTensor;
  if (hp.denseUnits > 0) {
    h = tf.layers.dense({ units: hp.denseUnits, activation: 'relu', kernelInitializer: init(), ...penaltyOf(hp), name: 'dense1' }).apply(h) as tf.SymbolicTensor;
    if (hp.dropout > 0) h = tf.layers.dropout({ rate: hp.dropout, seed: nextSeed(), name: 'dropout2' }).apply(h) as tf.SymbolicTensor;
  }
  const correction = tf.layers.dense({ units: 1, kernelInitializer: 'zeros', ...penaltyOf(hp), name: 'correction' }).apply(h) as tf.SymbolicTensor;
  const pick = tf.tidy(() => tf.oneHot([priorColumn], width).reshape([width, 1]).toFloat());
  const prior = tf.layers.dense({ units: 1, useBias: false, trainable: false, weights: [pick], name: 'prior' }).apply(features) as tf.SymbolicTensor;
  pick.dispose();
  const logit = tf.layers.add({ name: 'logit' }).apply([prior, correction]) as tf.SymbolicTensor;
  const p = tf.layers.activation({ activation: 'sigmoid', name: 'p_cat' }).apply(logit) as tf.SymbolicTensor;
  return tf.model({ inputs: features, outputs: p, name: 'head' });
}

/**
 * The pretrained-backbone classifier: the frozen backbone's features, batch norm (the features have very
 * different scales), dropout, a ReLU dense layer, dropout and the sigmoid P(cat). Run `loadBackbone` before
 * predicting with it; only the head's weights train.
 */
function buildBackboneClassifier(hp: CnnHyperparameters, seed: number): tf.LayersModel {
  let s = seed;
  const model = tf.sequential({ name: 'areyouacat_backbone_classifier' });
  model.add(tf.layers.inputLayer({ inputShape: [hp.imageSize, hp.imageSize, 3], name: 'image' }));
  model.add(new PretrainedBackbone({ backbone: hp.backbone!, imageSize: hp.imageSize, view: BACKBONE_VIEW }));
  const spec = backboneSpec(hp.backbone!);
  if (spec.priorColumn !== undefined) {
    model.add(priorCorrectionHead(hp, spec.features, spec.priorColumn, () => s++));
    model.compile({ optimizer: tf.train.adam(hp.learningRate), loss: 'binaryCrossentropy', metrics: ['accuracy'] });
    return model;
  }
  model.add(tf.layers.batchNormalization({ name: FEATURE_NORM }));
  addClassifierHead(model, hp, () => s++);
  return model;
}
