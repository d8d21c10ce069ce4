import fs from 'node:fs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureImageFile, measurePixels, PropertyCache } from '../../src/validation/properties.js';
import { robustZ, stratifiedFolds } from '../../src/validation/stats.js';
import { groupPredictionScore } from '../../src/validation/checks/shortcuts.js';
import { validateDataset } from '../../src/validation/validate.js';
import { build, cleanSpecs, run, tempHome } from './fixtures.js';

let home: string;
beforeAll(() => (home = tempHome()));
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

describe('statistics', () => {
  it('robust z ignores the outlier when scaling', () => {
    const { z } = robustZ([10, 11, 9, 10, 12, 8, 10, 100]);
    expect(Math.abs(z[7])).toBeGreaterThan(20);
    expect(Math.max(...z.slice(0, 7).map(Math.abs))).toBeLessThan(2);
  });
  it('stratified folds are balanced per class and seeded', () => {
    const classes = [...Array(20).fill('a'), ...Array(10).fill('b')];
    const f = stratifiedFolds(classes, 5, 's');
    expect(f).toEqual(stratifiedFolds(classes, 5, 's'));
    for (let k = 0; k < 5; k++) expect(f.filter((x, i) => x === k && classes[i] === 'a').length).toBe(4);
  });
  it('group prediction score: 1 when the value names the group, about 0 when it is noise', () => {
    const groups = Array.from({ length: 200 }, (_, i) => ['a', 'b', 'c', 'd'][i % 4]);
    expect(groupPredictionScore(groups.map((g) => g.charCodeAt(0)), groups, 5, 10).score).toBe(1);
    expect(groupPredictionScore(groups.map((_, i) => (i * 7919) % 113), groups, 5, 10).score).toBeLessThan(0.2);
  });
});

describe('image properties', () => {
  it('a flat grey image has no contrast, sharpness or colour; a checkerboard is sharp', () => {
    const flat = new Uint8Array(32 * 32 * 3).fill(100);
    const p = measurePixels(flat, 32, 32, { width: 320, height: 160 });
    expect(p).toMatchObject({ brightness: 100, contrast: 0, sharpness: 0, colourfulness: 0, saturation: 0, width: 320, height: 160, aspect: 2 });
    const board = new Uint8Array(32 * 32 * 3).map((_, i) => ((Math.floor(i / 3) % 32) + Math.floor(i / 96)) % 2 ? 255 : 0);
    expect(measurePixels(board, 32, 32, { width: 32, height: 32 }).sharpness).toBeGreaterThan(10000);
  });
  it('a pure red image is colourful and saturated', async () => {
    const red = await sharp({ create: { width: 40, height: 20, channels: 3, background: '#ff0000' } }).png().toBuffer();
    const p = await measureImageFile(red);
    expect(p).toMatchObject({ width: 40, height: 20, aspect: 2, saturation: 1 });
    // Hasler-Suesstrunk: no spread, mean (rg, yb) = (255, 127.5) -> 0.3 * hypot(255, 127.5).
    expect(p.colourfulness).toBeCloseTo(0.3 * Math.hypot(255, 127.5), 2);
    expect(p.dhash).toMatch(/^[0-9a-f]{16}$/);
  });
  it('caches properties by sha256 so a second validation decodes nothing', async () => {
    const b = await build(cleanSpecs(6, 'cache'));
    const first = await run(b);
    expect(first.timings.cacheHits).toBe(0);
    let reads = 0;
    const files = b.files;
    const second = await validateDataset({
      entries: b.entries,
      readImage: async (e) => {
        reads++;
        return files.get(e.path)!;
      },
    });
    expect(second.timings.cacheHits).toBe(24);
    // Only thumbnails for the report may read files now, never the whole set.
    expect(reads).toBeLessThan(24);
    const cache = new PropertyCache(64);
    expect(await cache.get(b.entries[0].sha256)).toBeDefined();
    fs.writeFileSync(`${cache.dir}/${b.entries[0].sha256.slice(0, 2)}/${b.entries[0].sha256}.json`, '{broken');
    expect(await cache.get(b.entries[0].sha256)).toBeUndefined();
  });
});
