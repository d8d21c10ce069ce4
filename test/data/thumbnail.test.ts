import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { fileThumbnailDataUri, thumbnailDataUri } from '../../src/data/thumbnail.js';

const decode = async (uri: string) => {
  expect(uri).toMatch(/^data:image\/jpeg;base64,/);
  const buf = Buffer.from(uri.slice(uri.indexOf(',') + 1), 'base64');
  return { meta: await sharp(buf).metadata(), pixel: (await sharp(buf).raw().toBuffer()).subarray(0, 3) };
};

describe('thumbnails', () => {
  // 200x100, transparent: shows the fit (cover fills the square, inside keeps the aspect) and the background.
  const wide = () => sharp({ create: { width: 200, height: 100, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).png().toBuffer();

  it('fits inside or covers the square, and paints transparency over the background', async () => {
    const inside = await decode(await thumbnailDataUri(await wide(), { size: 64, fit: 'inside', background: '#ffffff', lenient: true }));
    expect([inside.meta.width, inside.meta.height]).toEqual([64, 32]);
    expect(inside.pixel[0]).toBeGreaterThan(240);
    const cover = await decode(await thumbnailDataUri(await wide(), { size: 96, fit: 'cover' }));
    expect([cover.meta.width, cover.meta.height]).toEqual([96, 96]);
    expect(cover.pixel[0]).toBeLessThan(15);
  });

  it('gives null for a file that is not at hand or not an image', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-thumb-'));
    const png = path.join(dir, 'a.png');
    await fs.writeFile(png, await wide());
    await fs.writeFile(path.join(dir, 'b.png'), 'not an image');
    expect(await fileThumbnailDataUri(png, { size: 96, fit: 'cover' })).toMatch(/^data:image\/jpeg;base64,/);
    expect(await fileThumbnailDataUri(path.join(dir, 'b.png'), { size: 96, fit: 'cover' })).toBeNull();
    expect(await fileThumbnailDataUri(path.join(dir, 'missing.png'), { size: 96, fit: 'cover' })).toBeNull();
    expect(await fileThumbnailDataUri('a.png', { size: 96, fit: 'cover' })).toBeNull();
    await fs.rm(dir, { recursive: true, force: true });
  });
});
