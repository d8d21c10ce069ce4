import fs from 'node:fs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildManifest } from '../../src/data/manifest.js';
import { FolderSource } from '../../src/data/sources/folder.js';
import type { ManifestEntry } from '../../src/data/types.js';
import { bombPngHeader, patternImage, patternJpeg, tempDir, tinyBmp, writeFile } from './fixtures.js';

/** Every kind of bad input, built here, with the start of the reason the manifest must give. */
const expected: Record<string, string | null> = {
  'cat/good.jpg': null,
  'cat/opaque-alpha.png': null,
  'cat/grey.png': null,
  'cat/corrupt.jpg': 'corrupt or truncated',
  'cat/truncated.jpg': 'corrupt or truncated',
  'cat/empty.jpg': 'empty file',
  'cat/not-an-image.jpg': 'not a readable image',
  'cat/random-bytes.png': 'not a readable image',
  'dog/bitmap.bmp': 'unsupported format: bmp',
  'dog/vector.svg': 'unsupported format: svg',
  'dog/cmyk.jpg': 'CMYK colour space',
  'dog/deep.png': '16-bit samples',
  'dog/transparent.png': 'transparent pixels',
  'dog/animated.gif': 'animated image',
  'dog/animated.webp': 'animated image',
  'dog/bomb.png': 'decompression bomb',
  'dog/tiny.png': 'too small',
};

describe('bad input is rejected with a reason, never dropped, never a crash', () => {
  let root: string;
  let entries: ManifestEntry[];

  beforeAll(async () => {
    root = tempDir('bad-inputs');
    const good = await patternJpeg('good');
    writeFile(root, 'cat/good.jpg', good);
    const rgba = await (await patternImage('alpha')).ensureAlpha(1).png().toBuffer();
    writeFile(root, 'cat/opaque-alpha.png', rgba);
    writeFile(root, 'cat/grey.png', await sharp(Buffer.alloc(80 * 60, 120), { raw: { width: 80, height: 60, channels: 1 } }).png().toBuffer());
    // Corrupt: a valid JPEG header with the entropy-coded data overwritten by garbage.
    const corrupt = Buffer.from(good);
    for (let i = Math.floor(corrupt.length / 3); i < corrupt.length - 2; i++) corrupt[i] = (i * 7919) & 0xff;
    writeFile(root, 'cat/corrupt.jpg', corrupt);
    writeFile(root, 'cat/truncated.jpg', good.subarray(0, Math.floor(good.length / 2)));
    writeFile(root, 'cat/empty.jpg', Buffer.alloc(0));
    writeFile(root, 'cat/not-an-image.jpg', 'path,label\nthis is a csv file, not a photo\n');
    writeFile(root, 'cat/random-bytes.png', Buffer.from(Array.from({ length: 500 }, (_, i) => (i * 31 + 7) & 0xff)));
    writeFile(root, 'dog/bitmap.bmp', tinyBmp());
    writeFile(root, 'dog/vector.svg', '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><rect width="100" height="100"/></svg>');
    writeFile(root, 'dog/cmyk.jpg', await (await patternImage('cmyk')).toColourspace('cmyk').jpeg().toBuffer());
    writeFile(root, 'dog/deep.png', await (await patternImage('deep')).toColourspace('rgb16').png().toBuffer());
    const translucent = await sharp({ create: { width: 60, height: 60, channels: 4, background: { r: 200, g: 10, b: 10, alpha: 0.4 } } }).png().toBuffer();
    writeFile(root, 'dog/transparent.png', translucent);
    const frames = [await patternJpeg('f1', 60, 60), await patternJpeg('f2', 60, 60)];
    writeFile(root, 'dog/animated.gif', await sharp(frames, { join: { animated: true } }).gif().toBuffer());
    writeFile(root, 'dog/animated.webp', await sharp(frames, { join: { animated: true } }).webp().toBuffer());
    writeFile(root, 'dog/bomb.png', bombPngHeader(100_000, 100_000));
    writeFile(root, 'dog/tiny.png', await (await patternImage('tiny', 8, 8)).png().toBuffer());
    entries = (await buildManifest(new FolderSource(root))).entries;
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('lists every file once', () => {
    expect(entries.map((e) => e.path).sort()).toEqual(Object.keys(expected).sort());
  });

  for (const [file, reason] of Object.entries(expected)) {
    it(`${file}: ${reason ?? 'accepted'}`, () => {
      const e = entries.find((x) => x.path === file)!;
      if (reason === null) {
        expect(e.reason).toBe('');
        expect(e.status).toBe('ok');
        expect(e.phash).toMatch(/^[0-9a-f]{16}$/);
      } else {
        expect(e.status).toBe('rejected');
        expect(e.reason.startsWith(reason), `reason was "${e.reason}"`).toBe(true);
        expect(e.phash).toBe('');
      }
      if (file !== 'cat/empty.jpg') expect(e.bytes).toBeGreaterThan(0);
      expect(e.sha256).toMatch(/^[0-9a-f]{64}$/);
    });
  }

  it('reports the bomb with its header dimensions (rejected before decoding)', () => {
    const bomb = entries.find((e) => e.path === 'dog/bomb.png')!;
    expect(bomb.width).toBe(100_000);
    expect(bomb.reason).toContain('100000x100000');
  });
});
