import * as tf from '../tfjs/index.js';
import type { FeatureMatrix } from './backbone-features.js';
import { allLayers } from './model-layers.js';

/** The name of the batch-norm layer that standardises a backbone's features at the bottom of every head. */
export const FEATURE_NORM = 'feature_norm';

/**
 * Standardise a head's backbone features with the training rows' own mean and variance, fixed for the whole of
 * training, instead of with each batch's statistics.
 *
 * A batch-norm layer in training mode normalises with the batch (32 rows estimating 770 means and variances) and
 * keeps a moving average for inference that starts at mean 0, variance 1. On pooled backbone features, whose
 * variances are near 0.01, that average is still mostly its starting value after the few hundred steps a head
 * trains for (0.99^300 = 0.05 of the start is 5x the real variance), and restoring the best epoch's weights brings
 * back an even earlier one. The head then meets features at inference scaled very differently from training, and
 * photos unlike any training photo (a held-out source) land anywhere. Fixed statistics remove both: training and
 * inference see the same numbers.
 *
 * The layer keeps its learnable scale and offset; only the statistics are fixed. A layer that has statistics
 * already (a fine-tune continuing a trained model) keeps them. Returns `restore()`, which puts the
 * layer's ordinary batch-norm behaviour back (the statistics stay: they are the model's).
 */
export function fixFeatureStatistics(learner: tf.LayersModel, views: FeatureMatrix[]): { restore(): void } {
  const norm = findFeatureNorm(learner);
  if (!norm || views.length === 0 || views[0].n === 0) return { restore() {} };
  // A model that has trained before (a fine-tune continues one) keeps its own statistics: its weights were fitted
  // to them, and new ones would move every answer before the first step. A new layer (mean 0, variance 1) gets the
  // training rows'.
  if (isUnfitted(norm)) {
    const { mean, variance } = columnStatistics(views);
    const [gamma, beta] = norm.getWeights();
    const movingMean = tf.tensor1d(mean);
    const movingVariance = tf.tensor1d(variance);
    norm.setWeights([gamma, beta, movingMean, movingVariance]);
    movingMean.dispose();
    movingVariance.dispose();
  }
  const layer = norm as unknown as { call: (inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[] };
  const ordinary = layer.call.bind(norm);
  // Inference mode (the fixed statistics) while the rest of the head trains; gradients still reach scale and offset.
  layer.call = (inputs, kwargs) => ordinary(inputs, { ...kwargs, training: false });
  return {
    restore() {
      delete (layer as { call?: unknown }).call;
    },
  };
}

/** Whether a batch norm still has the statistics it was built with (mean 0, variance 1 in every column). */
function isUnfitted(norm: tf.layers.Layer): boolean {
  const [, , mean, variance] = norm.getWeights().map((w) => w.dataSync());
  return mean.every((v) => v === 0) && variance.every((v) => v === 1);
}

function findFeatureNorm(model: tf.LayersModel): tf.layers.Layer | null {
  return allLayers(model).find((l) => l.name === FEATURE_NORM && l.getClassName() === 'BatchNormalization') ?? null;
}

/** Per-column mean and (population) variance over every row of every view, in float64. */
export function columnStatistics(views: FeatureMatrix[]): { mean: Float32Array; variance: Float32Array } {
  const dim = views[0].dim;
  const sum = new Float64Array(dim);
  const sumSq = new Float64Array(dim);
  let n = 0;
  for (const view of views) {
    for (let r = 0; r < view.n; r++) {
      const row = r * dim;
      for (let c = 0; c < dim; c++) {
        const v = view.data[row + c];
        sum[c] += v;
        sumSq[c] += v * v;
      }
    }
    n += view.n;
  }
  const mean = new Float32Array(dim);
  const variance = new Float32Array(dim);
  for (let c = 0; c < dim; c++) {
    const m = sum[c] / n;
    mean[c] = m;
    variance[c] = Math.max(0, sumSq[c] / n - m * m);
  }
  return { mean, variance };
}
