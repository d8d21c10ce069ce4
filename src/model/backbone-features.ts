import * as tf from '@tensorflow/tfjs';
import { featureStore, pixelKey } from './feature-store.js';
import { BACKBONE_FEATURES, BACKBONE_ID, backboneFeatures, loadBackbone } from './backbone.js';
import { checkImages, imageBatch, type PixelImages } from './batches.js';
import type { Progress } from '../progress/index.js';

/** Backbone features of n images: row i is image i. */
export interface FeatureMatrix {
  n: number;
  dim: number;
  data: Float32Array;
}

export interface FeatureOptions {
  /** Features of the horizontally mirrored images (a training view for flip augmentation). */
  flip?: boolean;
  /** Keep features on disk here, one row per image keyed by its pixels (one file per backbone, size and view). */
  cacheDir?: string;
  batchSize?: number;
  onProgress?: Progress;
}

/** The cache file's name: one per backbone, image size and view. */
function storeName(size: number, flip: boolean): string {
  return `${BACKBONE_ID}-${size}-${flip ? 'mirrored' : 'plain'}`;
}

function rowKeys(images: PixelImages): string[] {
  const imageBytes = images.size * images.size * 3;
  return Array.from({ length: images.n }, (_, i) => pixelKey(images.pixels.subarray(i * imageBytes, (i + 1) * imageBytes)));
}

/** The cached features of these images in this view, or null when `cacheDir` lacks any of their rows. */
export async function readCachedFeatures(images: PixelImages, flip: boolean, cacheDir: string): Promise<FeatureMatrix | null> {
  const rows = await featureStore(cacheDir, storeName(images.size, flip), BACKBONE_FEATURES).load();
  const data = new Float32Array(images.n * BACKBONE_FEATURES);
  const keys = rowKeys(images);
  for (let i = 0; i < images.n; i++) {
    const row = rows.get(keys[i]);
    if (!row) return null;
    data.set(row, i * BACKBONE_FEATURES);
  }
  return { n: images.n, dim: BACKBONE_FEATURES, data };
}

/** Store features computed elsewhere (e.g. by jobs) where `imageFeatures` with the same cacheDir finds them. */
export async function writeCachedFeatures(images: PixelImages, flip: boolean, cacheDir: string, features: FeatureMatrix): Promise<void> {
  if (features.n !== images.n || features.dim !== BACKBONE_FEATURES) throw new Error(`features: ${features.n} x ${features.dim} for ${images.n} images`);
  const store = featureStore(cacheDir, storeName(images.size, flip), BACKBONE_FEATURES);
  const have = await store.load();
  const keys = rowKeys(images);
  const fresh: Array<{ key: string; values: Float32Array }> = [];
  const seen = new Set<string>();
  keys.forEach((key, i) => {
    if (have.has(key) || seen.has(key)) return;
    seen.add(key);
    fresh.push({ key, values: features.data.slice(i * BACKBONE_FEATURES, (i + 1) * BACKBONE_FEATURES) });
  });
  await store.append(fresh);
}

/**
 * The frozen backbone's features for every image, computed in batches. With a cache folder, each image's row is
 * kept on disk by the content of its pixels, so only images no earlier call has seen reach the backbone.
 */
export async function imageFeatures(images: PixelImages, options: FeatureOptions = {}): Promise<FeatureMatrix> {
  checkImages(images);
  const flip = options.flip ?? false;
  const data = new Float32Array(images.n * BACKBONE_FEATURES);
  const imageBytes = images.size * images.size * 3;
  const store = options.cacheDir ? featureStore(options.cacheDir, storeName(images.size, flip), BACKBONE_FEATURES) : null;
  const keys: string[] = [];
  let missing: number[] = Array.from({ length: images.n }, (_, i) => i);
  if (store) {
    const rows = await store.load();
    missing = [];
    for (let i = 0; i < images.n; i++) {
      const key = pixelKey(images.pixels.subarray(i * imageBytes, (i + 1) * imageBytes));
      keys.push(key);
      const row = rows.get(key);
      if (row) data.set(row, i * BACKBONE_FEATURES);
      else missing.push(i);
    }
  }
  if (missing.length === 0) return { n: images.n, dim: BACKBONE_FEATURES, data };
  const graph = await loadBackbone(images.size);
  const batchSize = options.batchSize ?? 16;
  for (let start = 0; start < missing.length; start += batchSize) {
    const indices = missing.slice(start, start + batchSize);
    const f = tf.tidy(() => {
      let x = tf.mul<tf.Tensor4D>(imageBatch(images, indices), 255);
      if (flip) x = tf.reverse(x, 2);
      return backboneFeatures(graph, x);
    });
    const values = (await f.data()) as Float32Array;
    f.dispose();
    const fresh = indices.map((index, j) => {
      const row = values.subarray(j * BACKBONE_FEATURES, (j + 1) * BACKBONE_FEATURES);
      data.set(row, index * BACKBONE_FEATURES);
      return { key: keys[index], values: row };
    });
    await store?.append(fresh);
    options.onProgress?.(Math.min(missing.length, start + batchSize), missing.length, `backbone features${flip ? ' (mirrored)' : ''}`);
  }
  return { n: images.n, dim: BACKBONE_FEATURES, data };
}

/** Rows `indices` as a [k, dim] tensor; with several views, each row comes from a randomly chosen view. */
export function featureBatch(views: FeatureMatrix[], indices: ArrayLike<number>, random: () => number = Math.random): tf.Tensor2D {
  const dim = views[0].dim;
  const out = new Float32Array(indices.length * dim);
  for (let i = 0; i < indices.length; i++) {
    const view = views.length > 1 ? views[Math.min(views.length - 1, Math.floor(random() * views.length))] : views[0];
    out.set(view.data.subarray(indices[i] * dim, (indices[i] + 1) * dim), i * dim);
  }
  return tf.tensor2d(out, [indices.length, dim]);
}

/** The head's P(cat) for every feature row. */
export async function predictFromFeatures(head: tf.LayersModel, features: FeatureMatrix, batchSize = 256): Promise<Float32Array> {
  const out = new Float32Array(features.n);
  for (let start = 0; start < features.n; start += batchSize) {
    const count = Math.min(batchSize, features.n - start);
    const p = tf.tidy(() => {
      const x = tf.tensor2d(features.data.subarray(start * features.dim, (start + count) * features.dim), [count, features.dim]);
      return (head.predict(x) as tf.Tensor).reshape([count]);
    });
    out.set(await p.data(), start);
    p.dispose();
  }
  return out;
}
