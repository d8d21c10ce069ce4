import sharp from 'sharp';
import { imageError, sniffImageFormat } from './image-input.js';
import { HttpError } from './http-errors.js';

export interface CleanPhoto {
  data: Buffer;
  width: number;
  height: number;
}

/**
 * Re-encode an uploaded photo as a plain JPEG: orientation applied to the pixels, converted to sRGB, transparency
 * flattened onto white, shrunk to at most `maxSide` pixels, and ALL metadata dropped (EXIF with GPS position,
 * camera serials, XMP, IPTC, ICC, comments). sharp writes no metadata unless asked to.
 */
export async function reencodePhoto(buf: Buffer, maxPixels: number, maxSide = 2048): Promise<CleanPhoto> {
  if (buf.length === 0) throw new HttpError(400, 'empty_photo', 'the photo is empty');
  if (!sniffImageFormat(buf)) throw new HttpError(415, 'not_an_image', 'the photo is not a JPEG, PNG, WebP or GIF image');
  try {
    const { data, info } = await sharp(buf, { failOn: 'truncated', limitInputPixels: maxPixels })
      .rotate()
      .resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true })
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .jpeg({ quality: 90 })
      .toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height };
  } catch (err) {
    throw imageError(err, maxPixels);
  }
}
