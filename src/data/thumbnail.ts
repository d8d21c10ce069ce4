import path from 'node:path';
import sharp from 'sharp';
import { exists } from '../storage/atomic.js';

export interface ThumbnailOptions {
  /** Side of the square the image is fitted to, in pixels. */
  size: number;
  /** `cover` crops to fill the square; `inside` keeps the whole image within it. */
  fit: 'cover' | 'inside';
  /** JPEG quality; default 70. */
  quality?: number;
  /** Paint transparent pixels over this colour (JPEG has no alpha); default: sharp's (black). */
  background?: string;
  /** Decode damaged files as far as they go instead of failing. */
  lenient?: boolean;
}

/** A small JPEG of an image (bytes or a file path), upright from its EXIF orientation, as a data: URI. */
export async function thumbnailDataUri(image: Buffer | string, opts: ThumbnailOptions): Promise<string> {
  let pipeline = sharp(image, opts.lenient ? { failOn: 'none' } : {}).rotate();
  if (opts.background) pipeline = pipeline.flatten({ background: opts.background });
  const jpeg = await pipeline.resize(opts.size, opts.size, { fit: opts.fit }).jpeg({ quality: opts.quality ?? 70 }).toBuffer();
  return `data:image/jpeg;base64,${jpeg.toString('base64')}`;
}

/** The thumbnail of an image file, or null when the file is not at hand (or the path is relative) or cannot be decoded. */
export async function fileThumbnailDataUri(file: string, opts: ThumbnailOptions): Promise<string | null> {
  if (!path.isAbsolute(file) || !(await exists(file))) return null;
  try {
    return await thumbnailDataUri(file, opts);
  } catch {
    return null;
  }
}
