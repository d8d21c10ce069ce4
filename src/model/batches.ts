import * as tf from '../tfjs/index.js';
import type { PreparedSplit } from '../data/types.js';
import { writeImage, type AugmentationOptions } from './augment.js';

/** Images as a model reads them: n images of size x size x 3 RGB bytes. */
export interface PixelImages {
  n: number;
  size: number;
  pixels: Uint8Array;
}

export function checkImages(images: PixelImages, what = 'images'): void {
  const expected = images.n * images.size * images.size * 3;
  if (images.pixels.length !== expected) {
    throw new Error(`${what}: expected ${images.n} x ${images.size} x ${images.size} x 3 = ${expected} bytes, got ${images.pixels.length}`);
  }
}

export function checkSplit(split: PreparedSplit, what = 'split'): void {
  checkImages(split, what);
  if (split.labels.length !== split.n) throw new Error(`${what}: ${split.labels.length} labels for ${split.n} images`);
}

/** A float32 [indices.length, size, size, 3] tensor built straight from the bytes (optionally augmented). */
export function imageBatch(
  images: PixelImages,
  indices: ArrayLike<number>,
  aug: Required<AugmentationOptions> | null = null,
  random: () => number = Math.random,
): tf.Tensor4D {
  const { size } = images;
  const per = size * size * 3;
  const data = new Float32Array(indices.length * per);
  for (let i = 0; i < indices.length; i++) writeImage(images.pixels, size, indices[i], data, i * per, aug, random);
  return tf.tensor4d(data, [indices.length, size, size, 3]);
}

/** Fisher-Yates shuffle of 0..n-1 with the given random source. */
export function shuffledIndices(n: number, random: () => number): Int32Array {
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
  return idx;
}
