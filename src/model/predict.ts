import * as tf from '@tensorflow/tfjs';
import { checkImages, imageBatch, type PixelImages } from './batches.js';

/**
 * P(cat) for every image, computed in batches (no augmentation). Accepts a PreparedSplit or any
 * `{n, size, pixels}`; the image size must match the model's input.
 */
export async function predictProbabilities(model: tf.LayersModel, images: PixelImages, batchSize = 64): Promise<Float32Array> {
  checkImages(images);
  const inputShape = model.inputs[0].shape;
  if (inputShape[1] !== images.size || inputShape[2] !== images.size) {
    throw new Error(`model expects ${inputShape[1]}x${inputShape[2]} images, got ${images.size}x${images.size}`);
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
