import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../../src/tfjs/index.js';
import { isWholeViewShape, prepareWholeView, wholeViewShape } from '../../src/data/whole-view.js';
import { artifactsForShape, BACKBONE_FEATURES, backboneFiles, FEATURE_RECIPE, loadBackbone, upsamplingOffsets } from '../../src/model/backbone.js';
import { imageFeatures } from '../../src/model/backbone-features.js';
import { OutdatedBackboneViewError } from '../../src/model/backbone-layer.js';
import { photoFeatureViews, photoWholeView, viewFeatures } from '../../src/model/photo-features.js';
import { predictPhotoViews, predictProbabilities, predictSquares, squareViews } from '../../src/model/predict.js';
import { mirrorSquares } from '../../src/data/mirror.js';
import { buildCnn, loadModel, saveModel, selectBackend, type CnnHyperparameters } from '../../src/model/index.js';
import { generatedSplit } from './fixtures.js';

const hp: CnnHyperparameters = {
  imageSize: 128, convBlocks: 1, filters: 8, kernelSize: 3, batchNorm: false, dropout: 0.2, denseUnits: 16,
  learningRate: 3e-3, batchSize: 16, augmentation: { flip: true }, backbone: 'coco-centernet',
};

let home: string;
beforeAll(async () => {
  home = await fs.mkdtemp(path.join(os.tmpdir(), 'areyouacat-whole-view-'));
  await selectBackend();
});
afterAll(async () => {
  await fs.rm(home, { recursive: true, force: true });
});

/** A photo of random colour blocks, `width` x `height`. */
async function blocks(width: number, height: number, seed = 1): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const cell = Math.floor(x / 23) * 31 + Math.floor(y / 17) * 7 + seed;
      for (let c = 0; c < 3; c++) raw[(y * width + x) * 3 + c] = (cell * (53 + 40 * c)) % 256;
    }
  }
  return sharp(raw, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

describe('whole view', () => {
  it('keeps the shorter side at S and the longer at S * aspect on a 32 grid, between S and 2S', () => {
    expect(wholeViewShape(256, 256, 256)).toEqual({ width: 256, height: 256 });
    expect(wholeViewShape(256, 190, 256)).toEqual({ width: 352, height: 256 }); // cats-v1's usual landscape
    expect(wholeViewShape(1920, 1080, 256)).toEqual({ width: 448, height: 256 }); // 16:9
    expect(wholeViewShape(1080, 1920, 256)).toEqual({ width: 256, height: 448 });
    expect(wholeViewShape(3000, 1000, 256)).toEqual({ width: 512, height: 256 }); // beyond 2:1: the centre 2:1
    expect(wholeViewShape(1000, 1010, 256)).toEqual({ width: 256, height: 256 });
    expect(wholeViewShape(640, 480, 128)).toEqual({ width: 160, height: 128 });
    for (const [w, h] of [[256, 190], [1920, 1080], [1080, 1920], [3000, 1000], [100, 100]]) expect(isWholeViewShape(wholeViewShape(w, h, 256), 256)).toBe(true);
    expect(isWholeViewShape({ width: 300, height: 256 }, 256)).toBe(false);
    expect(isWholeViewShape({ width: 576, height: 256 }, 256)).toBe(false);
    expect(isWholeViewShape({ width: 256, height: 128 }, 256)).toBe(false);
    expect(() => wholeViewShape(0, 10, 256)).toThrow(/positive/);
  });

  it('resizes a photo to its whole view without stretching it (a square photo gives its prepared square)', async () => {
    const view = await photoWholeView(await blocks(640, 360), 128);
    expect([view.width, view.height]).toEqual([224, 128]);
    expect(view.pixels.length).toBe(224 * 128 * 3);
    const square = generatedSplit(1, 128, 3);
    const png = await sharp(Buffer.from(square.pixels), { raw: { width: 128, height: 128, channels: 3 } }).png().toBuffer();
    const same = await photoWholeView(png, 128);
    expect(Buffer.from(same.pixels).equals(Buffer.from(square.pixels))).toBe(true);
    const decoded = { data: Buffer.from(square.pixels), width: 128, height: 128 };
    expect(Buffer.from((await prepareWholeView(decoded, 128)).pixels).equals(Buffer.from(square.pixels))).toBe(true);
  });

  it('runs the detector at the view shape: upsampling targets scaled by height and width, maps of the shape', async () => {
    const files = backboneFiles();
    const json = JSON.parse(await fs.readFile(files.json, 'utf8'));
    const bin = await fs.readFile(files.bin);
    const a = artifactsForShape(json, bin, 256, 384);
    const data = Buffer.from(a.weightData as ArrayBuffer);
    const offsets = upsamplingOffsets(json);
    expect(offsets.map((o) => [data.readInt32LE(o), data.readInt32LE(o + 4)])).toEqual([[16, 24], [32, 48], [64, 96]]);
    const graph = await loadBackbone(256, 384);
    const maps = tf.tidy(() => (graph.execute(tf.zeros([2, 256, 384, 3]), FEATURE_RECIPE.nodes) as tf.Tensor[]).map((m) => m.shape));
    expect(maps).toEqual([[2, 64, 96, 80], [2, 8, 12, 480], [2, 64, 96, 128]]);
  }, 120_000);

  it('gives 688 features per photo whatever its shape, plain and mirrored; batching by shape changes nothing', async () => {
    const wide = await blocks(900, 300, 2);
    const tall = await blocks(300, 500, 3);
    const fa = await photoFeatureViews(wide, { backbone: 'coco-centernet', imageSize: 128 });
    expect(fa.viewNames).toEqual(['plain', 'mirrored']);
    const a = { plain: fa.views[0], mirrored: fa.views[1] };
    expect(a.plain.length).toBe(BACKBONE_FEATURES);
    expect(a.mirrored.length).toBe(BACKBONE_FEATURES);
    expect(Array.from(a.plain)).not.toEqual(Array.from(a.mirrored));
    const views = [await photoWholeView(wide, 128), await photoWholeView(tall, 128), await photoWholeView(wide, 128)];
    const together = await viewFeatures('coco-centernet', views, false, 16);
    for (let i = 0; i < BACKBONE_FEATURES; i++) {
      expect(together[i]).toBeCloseTo(a.plain[i], 3);
      expect(together[2 * BACKBONE_FEATURES + i]).toBeCloseTo(a.plain[i], 3);
    }
    const b = (await photoFeatureViews(tall, { backbone: 'coco-centernet', imageSize: 128 })).views[0];
    for (let i = 0; i < BACKBONE_FEATURES; i++) expect(together[BACKBONE_FEATURES + i]).toBeCloseTo(b[i], 3);
  }, 120_000);

  it('predicts a photo as the mean of the head on its plain and mirrored whole view', async () => {
    const model = buildCnn(hp, 5);
    const wide = await photoWholeView(await blocks(700, 300, 4), 128);
    const [p] = await predictPhotoViews(model, [wide]);
    const mirrored = { ...wide, pixels: mirror(wide.pixels, wide.width, wide.height) };
    const [q] = await predictPhotoViews(model, [mirrored]);
    expect(Math.abs(p - q)).toBeLessThan(1e-5); // mirror-symmetric by construction
    const images = generatedSplit(3, 128, 9);
    const viaViews = await predictPhotoViews(model, squareViews(images));
    expect(viaViews.length).toBe(3);
    model.dispose();
  }, 120_000);

  it('predicts squares of their own as predictPhotoViews does, one cached row per pixels that reach the backbone', async () => {
    const model = buildCnn(hp, 5);
    const images = generatedSplit(3, 128, 9);
    const cacheDir = path.join(home, 'squares');
    const expected = await predictPhotoViews(model, squareViews(images));
    const got = await predictSquares(model, images, { featureCacheDir: cacheDir });
    for (let i = 0; i < 3; i++) expect(got[i]).toBeCloseTo(expected[i], 5);
    const rows = async () => (await fs.stat(path.join(cacheDir, 'coco-centernet-whole-v1-128-squares.rows'))).size / (16 + BACKBONE_FEATURES * 4);
    expect(await rows()).toBe(6); // the plain and the mirrored view of each
    // The mirror images' views are the originals' views swapped: nothing reaches the backbone again.
    const mirrored = await predictSquares(model, { ...images, pixels: mirrorSquares(images.pixels, 3, 128) }, { featureCacheDir: cacheDir });
    expect(await rows()).toBe(6);
    for (let i = 0; i < 3; i++) expect(mirrored[i]).toBeCloseTo(got[i], 5);
    model.dispose();
  }, 120_000);

  it('never falls back to the square: features neither cached nor readable from the photo are an error', async () => {
    const images = generatedSplit(2, 128, 5);
    await expect(imageFeatures(images, { backbone: 'coco-centernet', cacheDir: path.join(home, 'empty') })).rejects.toThrow(/whole view.*pass `photos`/);
    const model = buildCnn(hp, 1);
    await expect(predictProbabilities(model, images)).rejects.toThrow(/not in the cache/);
    const wrong = async () => blocks(200, 100);
    await expect(imageFeatures(images, { backbone: 'coco-centernet', photos: wrong })).rejects.toThrow(/does not prepare to the image's pixels/);
    model.dispose();
  });

  it('refuses a model saved before the whole view (trained on centre-square features) with a clear message', async () => {
    const model = buildCnn(hp, 2);
    const dir = path.join(home, 'old-model');
    await saveModel(model, dir, { backbone: 'coco-centernet', imageSize: 128 });
    model.dispose();
    const file = path.join(dir, 'model.json');
    const json = await fs.readFile(file, 'utf8');
    expect(json).toContain('"view":"whole-v1"');
    await expect(loadModel(dir)).resolves.toBeTruthy();
    await fs.writeFile(file, json.replace(',"view":"whole-v1"', ''));
    await expect(loadModel(dir)).rejects.toThrow(/centre square.*train it again/);
    await expect(loadModel(dir)).rejects.toBeInstanceOf(OutdatedBackboneViewError);
  });
});

function mirror(pixels: Uint8Array, width: number, height: number): Uint8Array {
  const out = new Uint8Array(pixels.length);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < 3; c++) out[(y * width + x) * 3 + c] = pixels[(y * width + (width - 1 - x)) * 3 + c];
  return out;
}
