import path from 'node:path';
import sharp from 'sharp';
import { exists } from '../storage/atomic.js';

/**
 * A small JPEG of an image file as a data: URI (embedded in a page, so no request leaves the site), or null
 * when the file is not at hand or cannot be decoded.
 */
export async function thumbnailDataUri(file: string, size = 96): Promise<string | null> {
  if (!path.isAbsolute(file) || !(await exists(file))) return null;
  try {
    const jpeg = await sharp(file).rotate().resize(size, size, { fit: 'cover' }).jpeg({ quality: 70 }).toBuffer();
    return `data:image/jpeg;base64,${jpeg.toString('base64')}`;
  } catch {
    return null;
  }
}
