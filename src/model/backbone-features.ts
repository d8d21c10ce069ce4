import * as tf from '../tfjs/index.js';
import { featureStore, pixelKey } from './feature-store.js';
import { mapLimit } from '../data/concurrency.js';
import { mirrorSquares } from '../data/mirror.js';
import { decodeRgb } from '../data/prepare.js';
import { DEFAULT_LIMITS } from '../data/inspect.js';
import type { ViewPixels } from '../data/whole-view.js';
import { BACKBONE_VIEW } from './backbone.js';
import { backboneSpec } from './backbones.js';
import { checkImages, type PixelImages } from './batches.js';
import { squareAndWholeView, viewFeatures, type PhotoReader } from './photo-features.js';
import type { Progress } from '../progress/index.js';

/** Backbone features of n images: row i is image i. */
export interface FeatureMatrix {
  n: number;
  dim: number;
  data: Float32Array;
}

export interface FeatureOptions {
  /** The backbone's id (`backbones.ts`): part of every cache key. */
  backbone: string;
  /** Features of the horizontally mirrored images (a training view for flip augmentation). */
  flip?: boolean;
  /** Keep features on disk here, one row per image keyed by its pixels (one file per backbone, size and view). */
  cacheDir?: string;
  /**
   * The source file of each image (by its split's path and group): features are computed from the photo's whole
   * view, never from the prepared square. Without it every row must already be in `cacheDir`.
   */
  photos?: PhotoReader;
  /** Decoder pixel limit for `photos` (default: ingest's). */
  maxPixels?: number;
  batchSize?: number;
  onProgress?: Progress;
}

/** The cache file's name: one per backbone, view of the photo, image size and mirroring. */
function storeName(backbone: string, size: number, flip: boolean): string {
  return `${backboneSpec(backbone).cacheId}-${BACKBONE_VIEW}-${size}-${flip ? 'mirrored' : 'plain'}`;
}

/** Images with the paths and groups of their source files (a PreparedSplit). */
type ImagesWithSources = PixelImages & { paths?: string[]; groups?: string[] };

function rowKeys(images: PixelImages): string[] {
  const imageBytes = images.size * images.size * 3;
  return Array.from({ length: images.n }, (_, i) => pixelKey(images.pixels.subarray(i * imageBytes, (i + 1) * imageBytes)));
}

/** The cached features of these images in this view, or null when `cacheDir` lacks any of their rows. */
export async function readCachedFeatures(backbone: string, images: PixelImages, flip: boolean, cacheDir: string): Promise<FeatureMatrix | null> {
  const BACKBONE_FEATURES = backboneSpec(backbone).features;
  const rows = await featureStore(cacheDir, storeName(backbone, images.size, flip), BACKBONE_FEATURES).load();
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
export async function writeCachedFeatures(backbone: string, images: PixelImages, flip: boolean, cacheDir: string, features: FeatureMatrix): Promise<void> {
  const BACKBONE_FEATURES = backboneSpec(backbone).features;
  if (features.n !== images.n || features.dim !== BACKBONE_FEATURES) throw new Error(`features: ${features.n} x ${features.dim} for ${images.n} images`);
  const store = featureStore(cacheDir, storeName(backbone, images.size, flip), BACKBONE_FEATURES);
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
 * The frozen backbone's features for every image, from the whole view of its source photo (read with `photos`),
 * computed in batches. The prepared square stays the image's identity: with a cache folder each row is kept on
 * disk by the square's pixels, so only images no earlier call has seen are read and reach the backbone. There is
 * no fallback to the square: a row that is neither cached nor readable is an error.
 */
export async function imageFeatures(images: ImagesWithSources, options: FeatureOptions): Promise<FeatureMatrix> {
  checkImages(images);
  const backbone = options.backbone;
  const BACKBONE_FEATURES = backboneSpec(backbone).features;
  const flip = options.flip ?? false;
  const data = new Float32Array(images.n * BACKBONE_FEATURES);
  const imageBytes = images.size * images.size * 3;
  const store = options.cacheDir ? featureStore(options.cacheDir, storeName(backbone, images.size, flip), BACKBONE_FEATURES) : null;
  const keys = rowKeys(images);
  let missing: number[] = Array.from({ length: images.n }, (_, i) => i);
  if (store) {
    const rows = await store.load();
    missing = [];
    for (let i = 0; i < images.n; i++) {
      const row = rows.get(keys[i]);
      if (row) data.set(row, i * BACKBONE_FEATURES);
      else missing.push(i);
    }
  }
  if (missing.length === 0) return { n: images.n, dim: BACKBONE_FEATURES, data };
  const { photos, paths, groups } = { photos: options.photos, paths: images.paths, groups: images.groups };
  if (!photos || !paths) {
    throw new Error(
      `backbone features of ${missing.length} of ${images.n} images are not in the cache${options.cacheDir ? ` (${options.cacheDir})` : ''}: ` +
        `they come from each source photo's whole view, so pass \`photos\` (a reader of the source files) with a split that lists their paths, ` +
        'or compute them first (computeFeaturesWithJobs)',
    );
  }
  const batchSize = options.batchSize ?? 16;
  const chunk = Math.max(batchSize, 32);
  for (let start = 0; start < missing.length; start += chunk) {
    const indices = missing.slice(start, start + chunk);
    const views: ViewPixels[] = await mapLimit(indices, 4, async (i) => {
      const item = { path: paths[i], group: groups?.[i] ?? '' };
      // decoded exactly as ingest decodes, so the square it prepares is the image's own
      const decoded = await decodeRgb(await photos(item), options.maxPixels ?? DEFAULT_LIMITS.maxPixels);
      const { square, view } = await squareAndWholeView(decoded, images.size);
      if (!Buffer.from(square).equals(Buffer.from(images.pixels.buffer, images.pixels.byteOffset + i * imageBytes, imageBytes))) {
        throw new Error(`${item.path}: the photo read does not prepare to the image's pixels (changed file or another image decoder)`);
      }
      return view;
    });
    const values = await viewFeatures(backbone, views, flip, batchSize);
    const fresh = indices.map((index, j) => {
      const row = values.subarray(j * BACKBONE_FEATURES, (j + 1) * BACKBONE_FEATURES);
      data.set(row, index * BACKBONE_FEATURES);
      return { key: keys[index], values: row };
    });
    await store?.append(fresh);
    options.onProgress?.(Math.min(missing.length, start + chunk), missing.length, `backbone features${flip ? ' (mirrored)' : ''}`);
    await new Promise((resolve) => setImmediate(resolve));
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

/**
 * Backbone features of square images that are photos of their own, such as the perturbed copies of the behaviour
 * checks: a square's whole view is the square itself. With `cacheDir` each row is kept by the pixels that reach the
 * backbone, so the mirrored view of an image and the plain view of its mirror image are one row (the check that
 * mirrors the test photos costs nothing more), and a later run on the same squares computes nothing.
 */
export async function squareFeatures(images: PixelImages, options: Pick<FeatureOptions, 'backbone' | 'flip' | 'cacheDir' | 'batchSize'>): Promise<FeatureMatrix> {
  checkImages(images);
  const backbone = options.backbone;
  const BACKBONE_FEATURES = backboneSpec(backbone).features;
  const fed = options.flip ? mirrorSquares(images.pixels, images.n, images.size) : images.pixels;
  const imageBytes = images.size * images.size * 3;
  const keys = rowKeys({ ...images, pixels: fed });
  const store = options.cacheDir ? featureStore(options.cacheDir, `${backboneSpec(backbone).cacheId}-${BACKBONE_VIEW}-${images.size}-squares`, BACKBONE_FEATURES) : null;
  const rows = store ? await store.load() : new Map<string, Float32Array>();
  const data = new Float32Array(images.n * BACKBONE_FEATURES);
  const missing: number[] = [];
  const pending = new Set<string>();
  for (let i = 0; i < images.n; i++) {
    const row = rows.get(keys[i]);
    if (row) data.set(row, i * BACKBONE_FEATURES);
    else if (!pending.has(keys[i])) {
      pending.add(keys[i]);
      missing.push(i);
    }
  }
  if (missing.length > 0) {
    const views: ViewPixels[] = missing.map((i) => ({ width: images.size, height: images.size, pixels: fed.subarray(i * imageBytes, (i + 1) * imageBytes) }));
    const values = await viewFeatures(backbone, views, false, options.batchSize ?? 16);
    const fresh = missing.map((index, j) => ({ key: keys[index], values: values.slice(j * BACKBONE_FEATURES, (j + 1) * BACKBONE_FEATURES) }));
    await store?.append(fresh);
    // every image that was missing, repeats of one square included, from the rows just computed
    const computed = new Map(fresh.map((f) => [f.key, f.values]));
    for (let i = 0; i < images.n; i++) {
      const row = computed.get(keys[i]);
      if (row) data.set(row, i * BACKBONE_FEATURES);
    }
  }
  return { n: images.n, dim: BACKBONE_FEATURES, data };
}
