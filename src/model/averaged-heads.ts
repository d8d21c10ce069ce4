import * as tf from '../tfjs/index.js';
import { FEATURE_NORM } from './feature-norm.js';
import { allLayers } from './model-layers.js';

/**
 * Averaging linear heads. A head with no hidden layer is linear in its standardised features: its logit is
 * w . (gamma * x_hat + beta) + b, with x_hat the features standardised by the training rows' statistics (the same
 * for every head trained on the same rows). Heads trained from different seeds (shuffling, dropout masks, early
 * stopping at different epochs) disagree most on photos unlike any training photo; the mean of their logits is one
 * linear head again, with kernel mean(w * gamma) and bias mean(b + w . beta). So the average of k heads is a model
 * exactly like one head, the same size and as fast, and it is exactly the ensemble of their logits.
 */

/** The two layers of a linear head: the feature batch norm and the dense unit giving the logit. */
interface LinearHeadLayers {
  norm: tf.layers.Layer;
  dense: tf.layers.Layer;
}

/** The names the final unit of a linear head has: the correction of the prior head, P(cat) of the plain one. */
const LOGIT_UNITS = ['correction', 'p_cat'];

function linearHeadLayers(model: tf.LayersModel): LinearHeadLayers {
  const layers = allLayers(model);
  const norm = layers.find((l) => l.name === FEATURE_NORM && l.getClassName() === 'BatchNormalization');
  const dense = layers.filter((l) => l.getClassName() === 'Dense' && LOGIT_UNITS.includes(l.name));
  const hidden = layers.some((l) => l.getClassName() === 'Dense' && l.name.startsWith('dense'));
  if (!norm || dense.length !== 1 || hidden) throw new Error(`model ${model.name} has no linear head over backbone features (averaging heads needs denseUnits 0)`);
  return { norm, dense: dense[0] };
}

/** The head's logit as one linear map of the standardised features: kernel w * gamma, bias b + w . beta. */
export function linearHeadWeights(model: tf.LayersModel): { kernel: Float32Array; bias: number } {
  const { norm, dense } = linearHeadLayers(model);
  const [gamma, beta] = norm.getWeights().map((w) => w.dataSync());
  const [w, b] = dense.getWeights().map((t) => t.dataSync());
  const kernel = new Float32Array(w.length);
  let bias = b[0];
  for (let i = 0; i < w.length; i++) {
    kernel[i] = w[i] * gamma[i];
    bias += w[i] * beta[i];
  }
  return { kernel, bias };
}

/**
 * Put the mean of `members`' linear heads into `into` (one of them, or a model of the same shape): the feature norm
 * keeps its statistics with scale 1 and offset 0, and the logit unit gets the mean kernel and bias.
 */
export function averageLinearHeads(into: tf.LayersModel, members: tf.LayersModel[]): void {
  if (members.length === 0) throw new Error('no heads to average');
  const all = members.map(linearHeadWeights);
  const dim = all[0].kernel.length;
  const kernel = new Float32Array(dim);
  let bias = 0;
  for (const m of all) {
    if (m.kernel.length !== dim) throw new Error(`heads of different widths (${m.kernel.length} and ${dim}) cannot be averaged`);
    for (let i = 0; i < dim; i++) kernel[i] += m.kernel[i] / all.length;
    bias += m.bias / all.length;
  }
  const { norm, dense } = linearHeadLayers(into);
  const [, , movingMean, movingVariance] = norm.getWeights();
  tf.tidy(() => {
    norm.setWeights([tf.ones([dim]), tf.zeros([dim]), movingMean, movingVariance]);
    dense.setWeights([tf.tensor2d(kernel, [dim, 1]), tf.tensor1d([bias])]);
  });
}
