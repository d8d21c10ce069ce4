import * as tf from '../tfjs/index.js';
import type { ViewPixels } from '../data/whole-view.js';
import { checkImages, imageBatch, type PixelImages } from './batches.js';
import { imageFeatures, predictFromFeatures, squareFeatures, type FeatureMatrix } from './backbone-features.js';
import { headOf, pretrainedBackboneOf } from './backbone-layer.js';
import { viewFeatures, type PhotoReader } from './photo-features.js';

/** Test-time augmentation of a backbone model: the mean of its P(cat) on the plain and the mirrored view. */
export async function meanOfViews(head: tf.LayersModel, plain: FeatureMatrix, mirrored: FeatureMatrix): Promise<Float32Array> {
  const a = await predictFromFeatures(head, plain);
  const b = await predictFromFeatures(head, mirrored);
  return a.map((p, i) => (p + b[i]) / 2);
}

/**
 * P(cat) for every image, computed in batches. Accepts a PreparedSplit or any `{n, size, pixels}`; the image size
 * must match the model's input. A model on a pretrained backbone runs as backbone features of each photo's whole
 * view, plain and mirrored (cached in `featureCacheDir`, else computed from `photos`, the images' source files),
 * through its head, and answers the mean of the two.
 */
export async function predictProbabilities(
  model: tf.LayersModel,
  images: PixelImages & { paths?: string[]; groups?: string[] },
  batchSize = 64,
  options: { featureCacheDir?: string; photos?: PhotoReader } = {},
): Promise<Float32Array> {
  checkImages(images);
  const inputShape = model.inputs[0].shape;
  if (inputShape[1] !== images.size || inputShape[2] !== images.size) {
    throw new Error(`model expects ${inputShape[1]}x${inputShape[2]} images, got ${images.size}x${images.size}`);
  }
  const backbone = pretrainedBackboneOf(model);
  if (backbone) {
    const opts = { backbone: backbone.backbone, cacheDir: options.featureCacheDir, photos: options.photos, batchSize: Math.min(batchSize, 16) };
    const plain = await imageFeatures(images, opts);
    const mirrored = await imageFeatures(images, { ...opts, flip: true });
    return meanOfViews(headOf(model, backbone), plain, mirrored);
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

/** Whether the model reads photos through the pretrained backbone (whole views of any allowed shape), not squares. */
export function readsWholeViews(model: tf.LayersModel): boolean {
  return pretrainedBackboneOf(model) !== null;
}

/**
 * The prediction entry point for photos as the model sees them: P(cat) of each view. A backbone model takes whole
 * views of any allowed shape (batched by shape, each on the backbone graph for it) and answers the mean of its head
 * on the plain and the mirrored view; any other model takes its imageSize x imageSize squares.
 */
export async function predictPhotoViews(model: tf.LayersModel, views: ViewPixels[], batchSize = 16): Promise<Float32Array> {
  if (views.length === 0) return new Float32Array(0);
  const backbone = pretrainedBackboneOf(model);
  if (backbone) {
    const dim = headOf(model, backbone).inputs[0].shape[1]!;
    const plain = { n: views.length, dim, data: await viewFeatures(backbone.backbone, views, false, batchSize) };
    const mirrored = { n: views.length, dim, data: await viewFeatures(backbone.backbone, views, true, batchSize) };
    return meanOfViews(headOf(model, backbone), plain, mirrored);
  }
  const size = model.inputs[0].shape[1]!;
  const pixels = new Uint8Array(views.length * size * size * 3);
  views.forEach((v, i) => {
    if (v.width !== size || v.height !== size) throw new Error(`model expects ${size}x${size} images, got ${v.width}x${v.height}`);
    pixels.set(v.pixels, i * size * size * 3);
  });
  return predictProbabilities(model, { n: views.length, size, pixels }, Math.max(batchSize, 1));
}

/**
 * P(cat) of square images that are photos of their own (perturbed copies of test photos in the behaviour checks):
 * what `predictPhotoViews(model, squareViews(images))` answers, with a backbone model's features kept in
 * `featureCacheDir` by the pixels that reach the backbone (`squareFeatures`), so a mirrored copy and a repeated run
 * reuse them.
 */
export async function predictSquares(model: tf.LayersModel, images: PixelImages, options: { featureCacheDir?: string; batchSize?: number } = {}): Promise<Float32Array> {
  const backbone = pretrainedBackboneOf(model);
  if (!backbone) return predictProbabilities(model, images, options.batchSize ?? 64);
  const opts = { backbone: backbone.backbone, cacheDir: options.featureCacheDir, batchSize: options.batchSize };
  return meanOfViews(headOf(model, backbone), await squareFeatures(images, opts), await squareFeatures(images, { ...opts, flip: true }));
}

/** Square images as views (for a backbone model: square photos, whose whole view is the square itself). */
export function squareViews(images: PixelImages): ViewPixels[] {
  checkImages(images);
  const per = images.size * images.size * 3;
  return Array.from({ length: images.n }, (_, i) => ({ width: images.size, height: images.size, pixels: images.pixels.subarray(i * per, (i + 1) * per) }));
}
