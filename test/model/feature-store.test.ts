import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKBONE_FEATURES } from '../../src/model/backbone.js';
import { imageFeatures } from '../../src/model/backbone-features.js';
import { imagesAsPhotos } from '../../src/model/photo-features.js';
import { FeatureStore, pixelKey } from '../../src/model/feature-store.js';
import { selectImages } from '../../src/data/subset.js';
import { generatedSplit } from './fixtures.js';

let home: string;
beforeAll(async () => {
  home = await fs.mkdtemp(path.join(os.tmpdir(), 'areyouacat-feature-store-'));
});
afterAll(async () => {
  await fs.rm(home, { recursive: true, force: true });
});

describe('feature store', () => {
  it('keeps one row per image by its pixels and ignores a torn last record', async () => {
    const dir = path.join(home, 'unit');
    const store = new FeatureStore(dir, 'v', 3);
    expect((await store.load()).size).toBe(0);
    const a = Uint8Array.from([1, 2, 3]);
    const b = Uint8Array.from([1, 2, 4]);
    expect(pixelKey(a)).not.toBe(pixelKey(b));
    await store.append([{ key: pixelKey(a), values: Float32Array.from([1, 2, 3]) }, { key: pixelKey(b), values: Float32Array.from([4, 5, 6]) }]);
    await fs.appendFile(store.file, Buffer.alloc(7)); // a crash in the middle of a write
    const again = new FeatureStore(dir, 'v', 3);
    const rows = await again.load();
    expect(rows.size).toBe(2);
    expect(Array.from(rows.get(pixelKey(b))!)).toEqual([4, 5, 6]);
    await expect(again.append([{ key: pixelKey(a), values: Float32Array.from([1]) }])).rejects.toThrow(/expected 3/);
  });

  it('serves any subset or reordering of images already seen without running the backbone again', async () => {
    const cacheDir = path.join(home, 'features');
    const images = { ...generatedSplit(6, 64, 5) };
    const all = await imageFeatures(images, { backbone: 'coco-centernet', cacheDir, photos: imagesAsPhotos(images) });
    const file = path.join(cacheDir, (await fs.readdir(cacheDir))[0]);
    const bytes = (await fs.stat(file)).size;
    const subset = selectImages([images], (_, i) => i % 2 === 1); // images 1, 3, 5
    const reversed = selectImages([subset], () => true);
    reversed.pixels = new Uint8Array(subset.pixels.length);
    const stride = 64 * 64 * 3;
    for (let i = 0; i < 3; i++) reversed.pixels.set(subset.pixels.subarray((2 - i) * stride, (3 - i) * stride), i * stride);
    let progress = 0;
    const part = await imageFeatures(reversed, { backbone: 'coco-centernet', cacheDir, onProgress: () => progress++ });
    expect(progress).toBe(0); // nothing reached the backbone
    expect((await fs.stat(file)).size).toBe(bytes);
    for (const [k, i] of [[0, 5], [1, 3], [2, 1]]) {
      expect(Array.from(part.data.subarray(k * BACKBONE_FEATURES, (k + 1) * BACKBONE_FEATURES))).toEqual(Array.from(all.data.subarray(i * BACKBONE_FEATURES, (i + 1) * BACKBONE_FEATURES)));
    }
  }, 120_000);
});
