import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestDataset, loadDatasetSummary, loadPreparedDataset } from '../../src/data/ingest.js';
import { readManifest } from '../../src/data/manifest.js';
import { prepareImage } from '../../src/data/prepare.js';
import { paths } from '../../src/storage/paths.js';
import { patternImage, patternJpeg, tempDir, writeFile } from './fixtures.js';

const GROUPS = ['cat', 'dog', 'selfie', 'misc'];

describe('ingest: manifest, mix, split, prepared cache', () => {
  let root: string;
  let home: string;
  const oldHome = process.env.AREYOUACAT_HOME;

  beforeAll(async () => {
    root = tempDir('ingest-src');
    home = tempDir('ingest-home');
    process.env.AREYOUACAT_HOME = home;
    // Shapes like cats-v1: landscape cats/dogs, square faces, small square "flowers" in misc.
    const shape: Record<string, [number, number]> = { cat: [200, 150], dog: [180, 140], selfie: [100, 100], misc: [64, 64] };
    for (const g of GROUPS) for (let i = 0; i < 12; i++) writeFile(root, `${g}/${i}.jpg`, await patternJpeg(`${g}${i}`, ...shape[g]));
    writeFile(root, 'misc/extra.jpg', await patternJpeg('extra', 64, 64));
    writeFile(root, 'misc/broken.jpg', Buffer.from('not really a jpeg'));
  });
  afterAll(() => {
    process.env.AREYOUACAT_HOME = oldHome;
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('writes manifest, split and summary; a second run hits the cache and gives the same data', async () => {
    const progress: number[] = [];
    const first = await ingestDataset({ spec: root, name: 'small', size: 32, seed: 5, onProgress: (d) => progress.push(d) });
    expect(progress.length).toBeGreaterThan(10);
    const s = first.summary;
    expect(s).toMatchObject({ files: 50, accepted: 49, rejected: 1, selected: 48, cache: { preparedHit: false, manifestReused: 0 } });
    expect(s.rejectedByReason).toEqual({ 'not a readable image': 1 });
    expect(s.upscaled).toEqual({});
    for (const g of GROUPS) expect(s.perGroup[g].selected).toBe(12);
    const dir = paths.dataset('small');
    for (const f of ['manifest.csv', 'split.json', 'summary.json']) expect(fs.existsSync(path.join(dir, f))).toBe(true);
    const manifest = await readManifest(path.join(dir, 'manifest.csv'));
    expect(manifest.length).toBe(50);
    expect(manifest.filter((e) => e.split).length).toBe(48);
    const broken = manifest.find((e) => e.path === 'misc/broken.jpg')!;
    expect(broken.status).toBe('rejected');
    expect(broken.split).toBeUndefined();

    const p = first.prepared;
    expect(p.train.n + p.val.n + p.test.n).toBe(48);
    expect(p.train.pixels.length).toBe(p.train.n * 32 * 32 * 3);
    expect(Array.from(p.train.labels)).toEqual(p.train.groups.map((g) => (g === 'cat' ? 1 : 0)));
    expect(new Set([...p.train.paths, ...p.val.paths, ...p.test.paths]).size).toBe(48);

    const second = await ingestDataset({ spec: root, name: 'small', size: 32, seed: 5 });
    expect(second.summary.cache).toMatchObject({ preparedHit: true, manifestReused: 49 });
    expect(second.prepared.key).toBe(p.key);
    expect(Buffer.from(second.prepared.test.pixels).equals(Buffer.from(p.test.pixels))).toBe(true);

    const loaded = await loadPreparedDataset('small');
    expect(loaded.key).toBe(p.key);
    expect(loaded.train.paths).toEqual(p.train.paths);
    expect(Buffer.from(loaded.train.pixels).equals(Buffer.from(p.train.pixels))).toBe(true);
    expect((await loadDatasetSummary('small')).selected).toBe(48);

    // Another size is another cache entry.
    const other = await ingestDataset({ spec: root, name: 'small', size: 16, seed: 5 });
    expect(other.summary.cache.preparedHit).toBe(false);
    expect(other.prepared.train.pixels.length).toBe(other.prepared.train.n * 16 * 16 * 3);
  });

  it('prepared pixels carry no trace of the file size or aspect ratio', async () => {
    // The same scene as a landscape photo, its square centre crop, and a larger copy give (almost) the same pixels.
    const wide = await (await patternImage('scene', 240, 160)).png().toBuffer();
    const square = await sharp(wide).extract({ left: 40, top: 0, width: 160, height: 160 }).png().toBuffer();
    const larger = await sharp(wide).resize(480, 320).png().toBuffer();
    const a = await prepareImage(wide, 32);
    const b = await prepareImage(square, 32);
    const c = await prepareImage(larger, 32);
    const meanDiff = (x: Uint8Array, y: Uint8Array) => x.reduce((s, v, i) => s + Math.abs(v - y[i]), 0) / x.length;
    expect(a.length).toBe(32 * 32 * 3);
    expect(meanDiff(a, b)).toBeLessThan(2);
    expect(meanDiff(a, c)).toBeLessThan(3);
  });

  it('EXIF orientation is applied', async () => {
    const upright = await (await patternImage('rot', 120, 80)).png().toBuffer();
    const rotated = await sharp(upright).rotate(90).jpeg({ quality: 95 }).toBuffer();
    // Stored sideways with an orientation tag that turns it back upright.
    const tagged = await sharp(rotated).withMetadata({ orientation: 8 }).jpeg({ quality: 95 }).toBuffer();
    const a = await prepareImage(upright, 16);
    const b = await prepareImage(tagged, 16);
    const meanDiff = a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0) / a.length;
    expect(meanDiff).toBeLessThan(6);
  });

  it('bad names, sizes and missing data sets give clear errors', async () => {
    await expect(ingestDataset({ spec: root, name: '../x' })).rejects.toThrow(/bad data set name/);
    await expect(ingestDataset({ spec: root, name: 'x', size: 3 })).rejects.toThrow(/size/);
    await expect(loadPreparedDataset('never-made')).rejects.toThrow(/data ingest/);
  });
});
