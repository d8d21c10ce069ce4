import * as tf from '@tensorflow/tfjs';
import { checkImages, imageBatch, type PixelImages } from './batches.js';
import { imageFeatures, predictFromFeatures } from './backbone-features.js';
import { headOf, pretrainedBackboneOf } from './backbone-layer.js';

/**
 * P(cat) for every image, computed in batches (no augmentation). Accepts a PreparedSplit or any
 * `{n, size, pixels}`; the image size must match the model's input. A model on a pretrained backbone runs as
 * backbone features (cached in `featureCacheDir` when given) through its head.
 */
export async function predictProbabilities(
  model: tf.LayersModel,
  images: PixelImages,
  batchSize = 64,
  options: { featureCacheDir?: string } = {},
): Promise<Float32Array> {
  checkImages(images);
  const inputShape = model.inputs[0].shape;
  if (inputShape[1] !== images.size || inputShape[2] !== images.size) {
    throw new Error(`model expects ${inputShape[1]}x${inputShape[2]} images, got ${images.size}x${images.size}`);
  }
  const backbone = pretrainedBackboneOf(model);
  if (backbone) {
    const features = await imageFeatures(images, { cacheDir: options.featureCacheDir, batchSize: Math.min(batchSize, 16) });
    return predictFromFeatures(headOf(model, backbone), features);
  }
  const out = new Float32Array(images.n);
  for (let start = 0; start < images.n; start += batchSize) {
    const count = Math.min(batchSize, images.n - start);
    const indices = Array.from({ length: count }, (_, i) => start + i);
    const probs = tf.tidy(() => (model.predict(imageBatch(images, indices)) as tf.Tensor).reshape([count]));
    out.set(await probs.data(), start);
    probs.dispose();
  }
  return out;
}
