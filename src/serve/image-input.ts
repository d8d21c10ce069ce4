import { imageDecodeError } from '../data/errors.js';
import { decodeRgbBounded, prepareDecoded } from '../data/prepare.js';
import { prepareWholeView, type ViewShape } from '../data/whole-view.js';
import { HttpError } from './http-errors.js';

/** Image formats the server accepts, by their first bytes. Anything else (SVG, TIFF, HEIF, PDF ...) is refused. */
const SIGNATURES: Array<{ format: string; test: (b: Buffer) => boolean }> = [
  { format: 'jpeg', test: (b) => b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  { format: 'png', test: (b) => b.length > 8 && b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) },
  { format: 'webp', test: (b) => b.length > 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP' },
  { format: 'gif', test: (b) => b.length > 6 && /^GIF8[79]a$/.test(b.toString('latin1', 0, 6)) },
];

export const ACCEPTED_CONTENT_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/gif'];

/** The format named by the file's first bytes, or null. */
export function sniffImageFormat(buf: Buffer): string | null {
  return SIGNATURES.find((s) => s.test(buf))?.format ?? null;
}

/** Check a declared content type: an image type the server reads (parameters ignored). */
export function checkImageContentType(contentType: string | undefined): void {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'image/jpg' || ACCEPTED_CONTENT_TYPES.includes(type)) return;
  throw new HttpError(
    415,
    'unsupported_media_type',
    `send the photo as ${ACCEPTED_CONTENT_TYPES.join(', ')} or as multipart/form-data (got "${type || 'none'}")`,
  );
}

export interface PreparedInput {
  /** RGB bytes prepared exactly as for training: the imageSize square, or the whole view (of `view`'s shape). */
  pixels: Uint8Array;
  /** The prepared pixels' shape. */
  view: ViewShape;
  format: string;
  width: number;
  height: number;
}

/**
 * Turn a decoding failure into a client error that says what was wrong with the file, by the ImageDecodeError's
 * kind (another decoder failure is classified first, so callers of the decoder may pass its error as it is).
 */
export function imageError(err: unknown, maxPixels: number): HttpError {
  const e = imageDecodeError(err);
  switch (e.kind) {
    case 'too-large':
      return new HttpError(413, 'image_too_large', `the image has more than ${maxPixels} pixels (a decompression bomb?)`);
    case 'unsupported-format':
      return new HttpError(415, 'not_an_image', 'the upload is not an image');
    case 'corrupt':
      return new HttpError(422, 'corrupt_image', `the image cannot be decoded (truncated or damaged): ${e.message.split('\n')[0]}`);
  }
}

/**
 * Validate and prepare an uploaded photo with the training preparation (EXIF rotation, sRGB, then the centre square,
 * or with `wholeView` (a backbone model) the whole view at the photo's aspect),
 * decoding with bounded memory (`decodeRgbBounded`). Non-images, unsupported formats, corrupt or truncated files and decompression bombs become 4xx HttpErrors.
 */
export async function prepareUpload(buf: Buffer, imageSize: number, maxPixels: number, wholeView = false): Promise<PreparedInput> {
  if (buf.length === 0) throw new HttpError(400, 'empty_body', 'no photo was sent');
  const format = sniffImageFormat(buf);
  if (!format) {
    throw new HttpError(415, 'not_an_image', 'the upload is not a JPEG, PNG, WebP or GIF image');
  }
  let decoded;
  try {
    decoded = await decodeRgbBounded(buf, imageSize, maxPixels);
  } catch (err) {
    throw imageError(err, maxPixels);
  }
  if (wholeView) {
    const { pixels, ...view } = await prepareWholeView(decoded, imageSize);
    return { pixels, view, format, width: decoded.width, height: decoded.height };
  }
  const pixels = await prepareDecoded(decoded, imageSize);
  return { pixels, view: { width: imageSize, height: imageSize }, format, width: decoded.width, height: decoded.height };
}
