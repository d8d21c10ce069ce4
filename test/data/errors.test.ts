import { describe, expect, it } from 'vitest';
import { ImageDecodeError, imageDecodeError, isImageDecodeError } from '../../src/data/errors.js';
import { decodeRgb } from '../../src/data/prepare.js';
import { bombPngHeader, patternJpeg, tinyBmp } from './fixtures.js';

async function decodeFailure(buf: Buffer, maxPixels = 1e8): Promise<unknown> {
  return decodeRgb(buf, maxPixels).then(
    () => {
      throw new Error('expected the decode to fail');
    },
    (err: unknown) => err,
  );
}

describe('image decoding errors', () => {
  it('a truncated JPEG is corrupt', async () => {
    const jpeg = await patternJpeg('cut', 120, 90);
    const err = await decodeFailure(jpeg.subarray(0, Math.floor(jpeg.length / 2)));
    expect(err).toBeInstanceOf(ImageDecodeError);
    expect((err as ImageDecodeError).kind).toBe('corrupt');
    expect(isImageDecodeError(err, 'corrupt')).toBe(true);
    expect(isImageDecodeError(err, 'too-large')).toBe(false);
    expect((err as ImageDecodeError).cause).toBeInstanceOf(Error);
  });

  it('more pixels than the limit is too large', async () => {
    const err = await decodeFailure(bombPngHeader(20_000, 20_000), 1_000_000);
    expect(isImageDecodeError(err, 'too-large')).toBe(true);
    const small = await decodeFailure(await patternJpeg('limit', 120, 90), 100);
    expect(isImageDecodeError(small, 'too-large')).toBe(true);
  });

  it('a format the decoder does not read is unsupported', async () => {
    for (const buf of [tinyBmp(), Buffer.from('plain text, not an image at all')]) {
      const err = await decodeFailure(buf);
      expect(isImageDecodeError(err, 'unsupported-format')).toBe(true);
    }
  });

  it('classifies another decoder error once, keeping its message, and keeps a typed one as it is', () => {
    const raw = new Error('Input image exceeds pixel limit');
    const typed = imageDecodeError(raw);
    expect(typed).toMatchObject({ kind: 'too-large', message: raw.message, cause: raw, name: 'ImageDecodeError' });
    expect(imageDecodeError(typed)).toBe(typed);
    expect(imageDecodeError(new Error('Input buffer contains unsupported image format')).kind).toBe('unsupported-format');
    expect(imageDecodeError('VipsJpeg: premature end of JPEG image').kind).toBe('corrupt');
    expect(isImageDecodeError(raw)).toBe(false);
  });
});
