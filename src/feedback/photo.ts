import sharp from 'sharp';
import { imageDecodeError } from '../data/errors.js';

export interface CleanPhoto {
  data: Buffer;
  width: number;
  height: number;
}

/**
 * Re-encode an uploaded photo as a plain JPEG: orientation applied to the pixels, converted to sRGB, transparency
 * flattened onto white, shrunk to at most `maxSide` pixels, and ALL metadata dropped (EXIF with GPS position,
 * camera serials, XMP, IPTC, ICC, comments). sharp writes no metadata unless asked to. A photo sharp cannot decode
 * (or one over `maxPixels`) rejects with an `ImageDecodeError`; the server turns that into a client error.
 */
export async function reencodePhoto(buf: Buffer, maxPixels: number, maxSide = 2048): Promise<CleanPhoto> {
  const { data, info } = await sharp(buf, { failOn: 'truncated', limitInputPixels: maxPixels })
    .rotate()
    .resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true })
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .jpeg({ quality: 90 })
    .toBuffer({ resolveWithObject: true })
    .catch((err: unknown) => { throw imageDecodeError(err); });
  return { data, width: info.width, height: info.height };
}
