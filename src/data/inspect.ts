import sharp, { type Metadata } from 'sharp';
import { differenceHash } from './phash.js';
import { decodeRgb, type DecodedImage } from './prepare.js';

export interface ImageLimits {
  /** Largest width*height accepted; checked from the header before any decoding (decompression bombs). */
  maxPixels: number;
  /** Smallest accepted width or height. */
  minSide: number;
}

export const DEFAULT_LIMITS: ImageLimits = { maxPixels: 40_000_000, minSide: 16 };
export const ACCEPTED_FORMATS = ['jpeg', 'png', 'webp', 'gif', 'tiff'] as const;

export interface Inspection {
  format: string;
  width: number;
  height: number;
  phash: string;
  /** '' when the image is usable. */
  reason: string;
  /** The decoded RGB image, when usable (so callers can prepare it without decoding twice). */
  decoded?: DecodedImage;
}

/** Formats sharp cannot read, recognised by their first bytes, so the reason says what the file is. */
function sniffUnsupported(buf: Buffer): string | undefined {
  const ascii = (start: number, end: number) => buf.subarray(start, end).toString('latin1');
  if (ascii(0, 2) === 'BM') return 'bmp';
  if (ascii(0, 4) === '8BPS') return 'psd';
  if (buf.length >= 4 && buf.readUInt32BE(0) === 0x00000100) return 'ico';
  if (ascii(4, 8) === 'ftyp') return 'heif/mp4 container';
  return undefined;
}

function shortError(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0].slice(0, 160);
}

/**
 * Check one file and, when it passes, decode it once: header checks first (format, size, frames, colour space,
 * bit depth, pixel limit), then a full decode that catches truncated or corrupt data, then the difference hash.
 * Never throws for bad input: the reason says why the file cannot be used.
 */
export async function inspectImage(buf: Buffer, limits: ImageLimits = DEFAULT_LIMITS): Promise<Inspection> {
  const rejected = (reason: string, meta?: Partial<Inspection>): Inspection => ({
    format: meta?.format ?? '', width: meta?.width ?? 0, height: meta?.height ?? 0, phash: '', reason,
  });
  if (buf.length === 0) return rejected('empty file (0 bytes)');
  let meta: Metadata;
  try {
    // Header only: no pixel limit here, so a bomb is reported with its dimensions instead of a generic error.
    meta = await sharp(buf, { limitInputPixels: false }).metadata();
  } catch (err) {
    const sniffed = sniffUnsupported(buf);
    if (sniffed) return rejected(`unsupported format: ${sniffed}`, { format: sniffed });
    return rejected(`not a readable image: ${shortError(err)}`);
  }
  const format = meta.format ?? 'unknown';
  const width = meta.autoOrient?.width ?? meta.width ?? 0;
  const height = meta.autoOrient?.height ?? meta.height ?? 0;
  const info = { format, width, height };
  if (!(ACCEPTED_FORMATS as readonly string[]).includes(format)) return rejected(`unsupported format: ${format}`, info);
  if ((meta.pages ?? 1) > 1) return rejected(`animated image (${meta.pages} frames)`, info);
  if (!width || !height) return rejected('image header has no dimensions', info);
  if (width * height > limits.maxPixels) {
    return rejected(`decompression bomb: ${width}x${height} exceeds the ${limits.maxPixels}-pixel limit`, info);
  }
  if (meta.space === 'cmyk') return rejected('CMYK colour space', info);
  if (meta.depth && meta.depth !== 'uchar' && meta.depth !== 'char') return rejected(`${meta.depth === 'ushort' ? '16' : meta.depth}-bit samples`, info);
  if (Math.min(width, height) < limits.minSide) return rejected(`too small: ${width}x${height} (min side ${limits.minSide})`, info);
  try {
    if (meta.hasAlpha) {
      const stats = await sharp(buf, { failOn: 'warning', limitInputPixels: limits.maxPixels }).stats();
      if (!stats.isOpaque) return rejected('transparent pixels (alpha channel)', info);
    }
    const decoded = await decodeRgb(buf, limits.maxPixels);
    const phash = differenceHash(decoded.data, decoded.width, decoded.height);
    return { ...info, width: decoded.width, height: decoded.height, phash, reason: '', decoded };
  } catch (err) {
    return rejected(`corrupt or truncated: ${shortError(err)}`, info);
  }
}
