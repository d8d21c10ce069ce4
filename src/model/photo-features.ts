import { decodeRgbBounded, prepareDecoded } from '../data/prepare.js';
import { BACKBONE_ID } from './backbone.js';
import { imageFeatures } from './backbone-features.js';

/**
 * Version of what `photoFeatureViews` computes from a photo (the preparation, the views and the backbone's
 * FEATURE_RECIPE): feature records of another version are not comparable and are refused at training time.
 * Bump it whenever any of these changes.
 */
export const FEATURE_RECIPE_VERSION = 1;

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
  /** The model's input size (square). */
  imageSize: number;
  /** A photo with more pixels is refused before it is decoded (ImageDecodeError 'too-large'). */
  maxPixels: number;
}

/**
 * The one place that turns a photo file into the features a head on the frozen backbone trains on: prepared exactly
 * as serving prepares an upload (bounded decode, EXIF rotation, sRGB, centre crop, resize; the same pixels as
 * ingest for photos up to 12 Mpx), then the backbone's features of every training view (plain and mirrored, as
 * `trainModel` uses them). Decoding failures reject with an ImageDecodeError. Nothing of the photo is kept.
 */
export async function photoFeatureViews(photo: Uint8Array, options: PhotoFeatureOptions): Promise<PhotoFeatureViews> {
  const { imageSize, maxPixels } = options;
  const buf = Buffer.isBuffer(photo) ? photo : Buffer.from(photo.buffer, photo.byteOffset, photo.byteLength);
  const pixels = await prepareDecoded(await decodeRgbBounded(buf, imageSize, maxPixels), imageSize);
  const images = { n: 1, size: imageSize, pixels };
  const views: Float32Array[] = [];
  for (const view of FEATURE_VIEWS) views.push((await imageFeatures(images, { flip: view === 'mirrored' })).data);
  return { backbone: BACKBONE_ID, recipe: FEATURE_RECIPE_VERSION, imageSize, viewNames: [...FEATURE_VIEWS], views };
}
