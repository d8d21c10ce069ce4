import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { preparedImagePng, renderImageGrid } from '../../src/notebook/index.js';

const solid = (r: number, g: number, b: number, width = 40, height = 30) =>
  sharp({ create: { width, height, channels: 3, background: { r, g, b } } }).png().toBuffer();

describe('renderImageGrid', () => {
  it('lays tiles out in rows of `columns` cells, with room for captions', async () => {
    const red = await solid(255, 0, 0);
    const tiles = Array.from({ length: 5 }, (_, i) => ({ image: red, caption: `tile ${i}` }));
    const png = await renderImageGrid(tiles, { columns: 3, cell: 50 });
    const meta = await sharp(png).metadata();
    expect(meta.format).toBe('png');
    // 3 columns of 50 px with 4 px gaps; 2 rows of 50 px + 16 px caption with 4 px gaps.
    expect(meta.width).toBe(4 + 3 * (50 + 4));
    expect(meta.height).toBe(4 + 2 * (50 + 16 + 4));
  });

  it('places each picture in its cell (pixel colours) and accepts data: URIs', async () => {
    const red = await solid(255, 0, 0, 32, 32);
    const blue = `data:image/png;base64,${(await solid(0, 0, 255, 32, 32)).toString('base64')}`;
    const png = await renderImageGrid([{ image: red }, { image: blue }], { columns: 2, cell: 32, title: 'two' });
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect(info.width).toBe(4 + 2 * 36);
    expect(info.height).toBe(24 + 4 + 36);
    const at = (x: number, y: number) => Array.from(data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3));
    expect(at(4 + 16, 24 + 4 + 16)).toEqual([255, 0, 0]);
    expect(at(4 + 36 + 16, 24 + 4 + 16)).toEqual([0, 0, 255]);
  });

  it('fails clearly on an unreadable tile or no tiles', async () => {
    await expect(renderImageGrid([{ image: Buffer.from('not an image'), caption: 'bad' }])).rejects.toThrow(/tile 0 \(bad\) is not a readable image/);
    await expect(renderImageGrid([{ image: 'http://example.com/x.png' }])).rejects.toThrow(/data:image/);
    await expect(renderImageGrid([])).rejects.toThrow(/at least one tile/);
  });
});

describe('preparedImagePng', () => {
  it('turns one image of a prepared split into a PNG of the same pixels', async () => {
    const size = 4;
    const pixels = new Uint8Array(2 * size * size * 3);
    pixels.fill(200, size * size * 3); // second image light grey, first black
    const png = await preparedImagePng({ size, n: 2, pixels }, 1);
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([4, 4, 3]);
    expect([...data].every((v) => v === 200)).toBe(true);
    await expect(preparedImagePng({ size, n: 2, pixels }, 2)).rejects.toThrow(/outside the split/);
  });
});
