/**
 * Why an image file could not be decoded. The decoder (sharp) reports failures as plain messages; this module is
 * the one place that reads them, so callers check `instanceof ImageDecodeError` and its `kind`, never a message.
 *   unsupported-format  not an image the decoder reads
 *   too-large           more pixels than the limit (a decompression bomb?)
 *   corrupt             truncated or damaged data, or an image that does not decode to what was expected
 */
export type ImageDecodeErrorKind = 'unsupported-format' | 'too-large' | 'corrupt';

export class ImageDecodeError extends Error {
  constructor(
    readonly kind: ImageDecodeErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ImageDecodeError';
  }
}

export function isImageDecodeError(err: unknown, kind?: ImageDecodeErrorKind): err is ImageDecodeError {
  return err instanceof ImageDecodeError && (kind === undefined || err.kind === kind);
}

/**
 * A decoder failure as an ImageDecodeError (kept as is when it already is one). The message is the decoder's,
 * unchanged; the original error is the `cause`.
 */
export function imageDecodeError(err: unknown): ImageDecodeError {
  if (err instanceof ImageDecodeError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const kind: ImageDecodeErrorKind = /pixel limit/i.test(message) ? 'too-large' : /unsupported image format/i.test(message) ? 'unsupported-format' : 'corrupt';
  return new ImageDecodeError(kind, message, { cause: err });
}
