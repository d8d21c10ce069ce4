import sharp from 'sharp';
import { ImageDecodeError, imageDecodeError } from './errors.js';

/**
 * Turning a photo into the SxS RGB bytes a model sees, without letting the file's shape become a feature.
 *
 * In cats-v1 the groups differ in shape: flowers are square 128 px, faces 200 px crops, cats and dogs landscape
 * ~256x190. Stretching each to SxS would bake the aspect ratio into the pixels (squashed cats, unsquashed faces);
 * letterboxing would add borders only some groups have. So every image gets the same treatment:
 *   1. EXIF auto-rotate (orientation tags otherwise differ by camera/source);
 *   2. convert to 8-bit sRGB, 3 channels (grey images become three equal channels);
 *   3. centre-crop to a square of side min(width, height) and resize that square to SxS with one kernel
 *      (lanczos3) for all images -- sharp's `fit: 'cover'` does crop and resize in one step.
 * What can still leak, and is reported rather than hidden:
 *   - sharpness: a source smaller than S is enlarged (blurry) and one far larger is shrunk (crisp); the
 *     ingest summary counts enlarged images per group (`upscaled`). At S=64 cats-v1 never enlarges.
 *   - colour statistics of a source (grey-only faces, JPEG quality, over-saturated flower photos);
 *   - framing: tight face crops versus whole scenes. Centre-cropping removes borders, not composition.
 * The validation checks compare these per group; a model should be checked on photos from a new source.
 */
export const PREPARE_VERSION = 1;
export const RESIZE_KERNEL = 'lanczos3' as const;

export interface DecodedImage {
  /** RGB bytes, row-major, 3 channels, already EXIF-rotated. */
  data: Buffer;
  width: number;
  height: number;
}

/** Centre-crop to a square and resize to size x size; returns size*size*3 RGB bytes. */
export async function prepareDecoded(img: DecodedImage, size: number): Promise<Uint8Array> {
  const { data, info } = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(size, size, { fit: 'cover', position: 'centre', kernel: RESIZE_KERNEL })
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || data.length !== size * size * 3) {
    throw new Error(`preparation produced ${info.width}x${info.height}x${info.channels}, expected ${size}x${size}x3`);
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

/**
 * Decode an image file to rotated 8-bit sRGB; alpha (already checked to be opaque) is flattened away. Strict:
 * any decoder warning (corrupt entropy data, premature end) is an error, so damaged files are rejected. Every
 * failure is an ImageDecodeError whose kind says what was wrong (unsupported format, too many pixels, corrupt).
 */
export async function decodeRgb(buf: Buffer, maxPixels: number): Promise<DecodedImage> {
  let decoded;
  try {
    decoded = await sharp(buf, { failOn: 'warning', limitInputPixels: maxPixels })
      .rotate()
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw imageDecodeError(err);
  }
  const { data, info } = decoded;
  if (info.channels !== 3) throw new ImageDecodeError('corrupt', `decoded to ${info.channels} channels, expected 3`);
  return { data, width: info.width, height: info.height };
}

/**
 * Images up to this many pixels are decoded at full size by `decodeRgbBounded`, exactly as ingest does (12 Mpx: a
 * phone photo); a full decode of one costs about 3.4 bytes per pixel at peak (measured: about 120 MB for 36 Mpx).
 */
export const FULL_DECODE_PIXELS = 12_000_000;

function pixelLimitError(width: number, height: number, maxPixels: number): ImageDecodeError {
  return new ImageDecodeError('too-large', `Input image exceeds pixel limit: ${width}x${height} is more than ${maxPixels} pixels`);
}

/**
 * Decode for a model input of `size` px with memory bounded regardless of the image: the header is read first
 * (over `maxPixels` fails before any pixel is decoded); images up to FULL_DECODE_PIXELS decode exactly as
 * `decodeRgb` (so their prepared pixels are those of training); larger ones are shrunk while decoding, to a
 * shorter side of max(4 * size, 1024) px: libvips' shrink-on-load for JPEG and WebP, and a sequential read that
 * streams rows through the resize for PNG and GIF (about 30 MB for 36 Mpx instead of about 120 MB). The final
 * centre crop and Lanczos-3 resize (`prepareDecoded`) then starts from a still well-sampled image.
 */
export async function decodeRgbBounded(buf: Buffer, size: number, maxPixels: number): Promise<DecodedImage> {
  try {
    return await decodeBounded(buf, size, maxPixels);
  } catch (err) {
    throw imageDecodeError(err);
  }
}

async function decodeBounded(buf: Buffer, size: number, maxPixels: number): Promise<DecodedImage> {
  const meta = await sharp(buf, { failOn: 'warning', limitInputPixels: maxPixels }).metadata();
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  if (width * height > maxPixels) throw pixelLimitError(width, height, maxPixels);
  if (width * height <= FULL_DECODE_PIXELS) return decodeRgb(buf, maxPixels);
  const side = Math.max(4 * size, 1024);
  const { data, info } = await sharp(buf, { failOn: 'warning', limitInputPixels: maxPixels, sequentialRead: true })
    .rotate()
    .resize({ width: side, height: side, fit: 'outside', kernel: RESIZE_KERNEL, withoutEnlargement: true })
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new ImageDecodeError('corrupt', `decoded to ${info.channels} channels, expected 3`);
  return { data, width: info.width, height: info.height };
}

/** Decode and prepare one image file (for serving and one-off predictions; ingest uses the cached path). */
export async function prepareImage(buf: Buffer, size: number, maxPixels = 40_000_000): Promise<Uint8Array> {
  return prepareDecoded(await decodeRgb(buf, maxPixels), size);
}
