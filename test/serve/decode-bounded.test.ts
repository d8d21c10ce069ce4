import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeRgb, decodeRgbBounded, FULL_DECODE_PIXELS, prepareDecoded } from '../../src/data/prepare.js';
import { makeJpeg } from './helpers/images.js';

describe('bounded decoding for serving', () => {
  it('decodes images up to FULL_DECODE_PIXELS exactly as ingest does (same prepared pixels)', async () => {
    for (const [w, h] of [[320, 240], [1200, 900], [3000, 4000]] as const) {
      expect(w * h).toBeLessThanOrEqual(FULL_DECODE_PIXELS);
      const jpeg = await makeJpeg(w, h, w);
      const full = await decodeRgb(jpeg, 40_000_000);
      const bounded = await decodeRgbBounded(jpeg, 64, 40_000_000);
      expect(bounded.width).toBe(full.width);
      expect(Buffer.compare(bounded.data, full.data)).toBe(0);
    }
  }, 60_000);

  it('shrinks larger images while decoding, and their prepared pixels stay close to a full decode', async () => {
    const jpeg = await makeJpeg(4800, 3600, 5); // 17.3 Mpx
    const full = await prepareDecoded(await decodeRgb(jpeg, 40_000_000), 64);
    const decoded = await decodeRgbBounded(jpeg, 64, 40_000_000);
    expect(Math.min(decoded.width, decoded.height)).toBe(1024);
    const bounded = await prepareDecoded(decoded, 64);
    let sum = 0;
    for (let i = 0; i < full.length; i++) sum += Math.abs(full[i] - bounded[i]);
    expect(sum / full.length).toBeLessThan(2);
  }, 60_000);

  it('refuses an image over the limit from its header, before decoding', async () => {
    const png = await sharp({ create: { width: 5000, height: 5000, channels: 3, background: '#000' } }).png({ palette: true, colours: 2 }).toBuffer();
    await expect(decodeRgbBounded(png, 64, 16_000_000)).rejects.toThrow(/pixel limit/);
  });
});
