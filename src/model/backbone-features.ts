import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic } from '../storage/atomic.js';
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
  /** Keep features on disk here, keyed by a hash of the backbone, size, view and pixels. */
  cacheDir?: string;
  batchSize?: number;
  onProgress?: Progress;
}

function cacheKey(images: PixelImages, flip: boolean): string {
  const h = createHash('sha256').update(`${BACKBONE_ID}:${images.size}:${images.n}:${flip ? 'flip' : 'plain'}:`);
  h.update(images.pixels);
  return h.digest('hex').slice(0, 32);
}

function cacheFile(images: PixelImages, flip: boolean, cacheDir: string): string {
  return path.join(cacheDir, `${cacheKey(images, flip)}.f32`);
}

/** The cached features of these images in this view, or null when `cacheDir` does not hold them. */
export async function readCachedFeatures(images: PixelImages, flip: boolean, cacheDir: string): Promise<FeatureMatrix | null> {
  const cached = await fs.readFile(cacheFile(images, flip, cacheDir)).catch(() => null);
  if (!cached || cached.byteLength !== images.n * BACKBONE_FEATURES * 4) return null;
  const data = new Float32Array(cached.buffer.slice(cached.byteOffset, cached.byteOffset + cached.byteLength));
  return { n: images.n, dim: BACKBONE_FEATURES, data };
}

/** Store features computed elsewhere (e.g. by jobs) where `imageFeatures` with the same cacheDir finds them. */
export async function writeCachedFeatures(images: PixelImages, flip: boolean, cacheDir: string, features: FeatureMatrix): Promise<void> {
  if (features.n !== images.n || features.dim !== BACKBONE_FEATURES) throw new Error(`features: ${features.n} x ${features.dim} for ${images.n} images`);
  const file = cacheFile(images, flip, cacheDir);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, Buffer.from(features.data.buffer, features.data.byteOffset, features.data.byteLength));
}

/** The frozen backbone's features for every image, computed in batches (or read back from the cache). */
export async function imageFeatures(images: PixelImages, options: FeatureOptions = {}): Promise<FeatureMatrix> {
  checkImages(images);
  const flip = options.flip ?? false;
  if (options.cacheDir) {
    const cached = await readCachedFeatures(images, flip, options.cacheDir);
    if (cached) return cached;
  }
  const graph = await loadBackbone(images.size);
  const batchSize = options.batchSize ?? 16;
  const data = new Float32Array(images.n * BACKBONE_FEATURES);
  for (let start = 0; start < images.n; start += batchSize) {
    const count = Math.min(batchSize, images.n - start);
    const indices = Array.from({ length: count }, (_, i) => start + i);
    const f = tf.tidy(() => {
      let x = tf.mul<tf.Tensor4D>(imageBatch(images, indices), 255);
      if (flip) x = tf.reverse(x, 2);
      return backboneFeatures(graph, x);
    });
    data.set(await f.data(), start * BACKBONE_FEATURES);
    f.dispose();
    options.onProgress?.(start + count, images.n, `backbone features${flip ? ' (mirrored)' : ''}`);
  }
  const out = { n: images.n, dim: BACKBONE_FEATURES, data };
  if (options.cacheDir) await writeCachedFeatures(images, flip, options.cacheDir, out);
  return out;
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
