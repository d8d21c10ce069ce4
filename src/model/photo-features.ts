import * as tf from '../tfjs/index.js';
import sharp from 'sharp';
import { DEFAULT_LIMITS } from '../data/inspect.js';
import { decodeRgbBounded, prepareDecoded, type DecodedImage } from '../data/prepare.js';
import { prepareWholeView, type ViewPixels } from '../data/whole-view.js';
import { backboneSpec } from './backbones.js';
import { onnxFeatureRunner } from './engine.js';
import { mirrorRows } from '../data/mirror.js';
import type { PixelImages } from './batches.js';

/** Reads the source file of one prepared image (by the path and group its split lists). */
export type PhotoReader = (item: { path: string; group: string }) => Promise<Buffer>;

/**
 * Features of whole views on the backbone `backbone` (an id): n x its width values, row i for view i, mirrored (left-right) when
 * `flip`. Views are batched by shape, each shape on its own backbone graph; the pooled features do not depend on it.
 */
export async function viewFeatures(backbone: string, views: ViewPixels[], flip: boolean, batchSize = 16): Promise<Float32Array> {
  const spec = backboneSpec(backbone);
  const dim = spec.features;
  const out = new Float32Array(views.length * dim);
  const byShape = new Map<string, number[]>();
  views.forEach((v, i) => {
    if (v.pixels.length !== v.width * v.height * 3) throw new Error(`view ${i}: ${v.pixels.length} bytes for ${v.width}x${v.height}x3`);
    const key = `${v.height}x${v.width}`;
    byShape.set(key, [...(byShape.get(key) ?? []), i]);
  });
  const onnx = await onnxFeatureRunner(backbone);
  for (const indices of byShape.values()) {
    const { height, width } = views[indices[0]];
    if (onnx) {
      for (let start = 0; start < indices.length; start += batchSize) {
        const batch = indices.slice(start, start + batchSize);
        const per = height * width * 3;
        let pixels: Float32Array = new Float32Array(batch.length * per);
        batch.forEach((index, j) => pixels.set(views[index].pixels, j * per));
        if (flip) pixels = mirrorRows(pixels, batch.length * height, width);
        const pooled = await onnx.run(pixels, batch.length, height, width);
        const values = spec.finish ? await spec.finish(pooled, batch.length) : pooled;
        batch.forEach((index, j) => out.set(values.subarray(j * dim, (j + 1) * dim), index * dim));
      }
      continue;
    }
    const net = await spec.load(height, width);
    for (let start = 0; start < indices.length; start += batchSize) {
      const batch = indices.slice(start, start + batchSize);
      const per = height * width * 3;
      const pixels = new Float32Array(batch.length * per);
      batch.forEach((index, j) => pixels.set(views[index].pixels, j * per));
      const f = tf.tidy(() => {
        let x = tf.tensor4d(pixels, [batch.length, height, width, 3]);
        if (flip) x = tf.reverse(x, 2);
        return net.features(x);
      });
      const values = (await f.data()) as Float32Array;
      f.dispose();
      batch.forEach((index, j) => out.set(values.subarray(j * dim, (j + 1) * dim), index * dim));
    }
  }
  return out;
}

/** Decode a photo file exactly as serving does (bounded memory; up to 12 Mpx as ingest does) and take its whole view. */
export async function photoWholeView(bytes: Buffer, size: number, maxPixels: number = DEFAULT_LIMITS.maxPixels): Promise<ViewPixels> {
  return prepareWholeView(await decodeRgbBounded(bytes, size, maxPixels), size);
}

/**
 * Version of what `photoFeatureViews` computes from a photo (the preparation, the views and the backbone's
 * FEATURE_RECIPE): feature records of another version are not comparable and are refused at training time.
 * Bump it whenever any of these changes. 1: the centre square; 2: the whole view (BACKBONE_VIEW 'whole-v1').
 */
export const FEATURE_RECIPE_VERSION = 2;

/** The training views, in the order `photoFeatureViews` returns them (the head trains on a random one per step). */
export const FEATURE_VIEWS = ['plain', 'mirrored'] as const;

/** The backbone features of one photo in every training view. */
export interface PhotoFeatureViews {
  backbone: string;
  recipe: number;
  imageSize: number;
  /** Names of the views, same order as `views`. */
  viewNames: string[];
  /** One feature row per view. */
  views: Float32Array[];
}

export interface PhotoFeatureOptions {
  /** The backbone's id. */
  backbone: string;
  /** The model's input size (the whole view's shorter side). */
  imageSize: number;
  /** A photo with more pixels is refused before it is decoded (ImageDecodeError 'too-large'). */
  maxPixels?: number;
}

/**
 * The one place that turns a photo file into the features a head on the frozen backbone trains on: decoded exactly
 * as serving decodes an upload (bounded decode, EXIF rotation, sRGB; the same pixels as ingest for photos up to
 * 12 Mpx), its whole view (`prepareWholeView`), then the backbone's features of every training view (plain and
 * mirrored, as `trainModel` uses them). Decoding failures reject with an ImageDecodeError. Nothing of the photo is kept.
 */
export async function photoFeatureViews(photo: Uint8Array, options: PhotoFeatureOptions): Promise<PhotoFeatureViews> {
  const { imageSize, maxPixels, backbone } = options;
  const buf = Buffer.isBuffer(photo) ? photo : Buffer.from(photo.buffer, photo.byteOffset, photo.byteLength);
  const view = await photoWholeView(buf, imageSize, maxPixels);
  const views: Float32Array[] = [];
  for (const name of FEATURE_VIEWS) views.push(await viewFeatures(backbone, [view], name === 'mirrored', 1));
  return { backbone, recipe: FEATURE_RECIPE_VERSION, imageSize, viewNames: [...FEATURE_VIEWS], views };
}

/**
 * The square and the whole view of one decoded photo: the square is the image's identity (cache keys, the CNN,
 * validation, thumbnails), the whole view is what the backbone sees.
 */
export async function squareAndWholeView(decoded: DecodedImage, size: number): Promise<{ square: Uint8Array; view: ViewPixels }> {
  const [square, view] = await Promise.all([prepareDecoded(decoded, size), prepareWholeView(decoded, size)]);
  return { square, view };
}

/**
 * Images that are their own photos (generated pixels, a square photo's prepared bytes): a reader that hands out
 * each image as a PNG by its path, so their whole view is exactly their pixels.
 */
export function imagesAsPhotos(images: PixelImages & { paths: string[] }): PhotoReader {
  const index = new Map(images.paths.map((p, i) => [p, i]));
  const per = images.size * images.size * 3;
  return async ({ path }) => {
    const i = index.get(path);
    if (i === undefined) throw new Error(`no image with path ${path}`);
    const raw = Buffer.from(images.pixels.buffer, images.pixels.byteOffset + i * per, per);
    return sharp(raw, { raw: { width: images.size, height: images.size, channels: 3 } }).png({ compressionLevel: 1 }).toBuffer();
  };
}

/** The reader of a data source's files, for the images ingested from it. */
export function photosOf(source: { read(item: { path: string; group: string; source: string }): Promise<Buffer> }): PhotoReader {
  return (item) => source.read({ path: item.path, group: item.group, source: '' });
}
