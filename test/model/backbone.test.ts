import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../../src/tfjs/index.js';
import { artifactsForSize, BACKBONE_FEATURES, BACKBONE_ID, backboneFiles, checkBackboneImageSize, readBackboneFiles } from '../../src/model/backbone.js';
import { imageFeatures } from '../../src/model/backbone-features.js';
import { imagesAsPhotos } from '../../src/model/photo-features.js';
import { pretrainedBackboneOf } from '../../src/model/backbone-layer.js';
import { buildCnn, loadModel, predictProbabilities, saveModel, selectBackend, trainModel, type CnnHyperparameters } from '../../src/model/index.js';
import { catsV1Dir, catsV1Splits, generatedSplit } from './fixtures.js';

const catsV1Photos = ({ path: p }: { path: string }) => fs.readFile(path.join(catsV1Dir(), p));

const head: CnnHyperparameters = {
  imageSize: 128, convBlocks: 1, filters: 8, kernelSize: 3, batchNorm: false, dropout: 0.2, denseUnits: 32,
  learningRate: 3e-3, batchSize: 16, augmentation: { flip: true }, backbone: 'coco-centernet',
};

let home: string;
beforeAll(async () => {
  home = await fs.mkdtemp(path.join(os.tmpdir(), 'areyouacat-backbone-'));
  await selectBackend();
});
afterAll(async () => {
  await fs.rm(home, { recursive: true, force: true });
});

describe('pretrained backbone', () => {
  it('accepts only input sizes the detector can run at', () => {
    expect(() => checkBackboneImageSize(256)).not.toThrow();
    expect(() => checkBackboneImageSize(100)).toThrow(/multiple of 32/);
    expect(() => checkBackboneImageSize(32)).toThrow(/between 64 and 1024/);
    expect(() => buildCnn({ ...head, imageSize: 120 })).toThrow(/multiple of 32/);
    expect(() => buildCnn({ ...head, backbone: 'imagenet-resnet' })).toThrow(/unknown backbone/);
  });

  it('resizes the graph: any batch, the requested size, upsampling targets scaled from 512', async () => {
    const files = backboneFiles();
    const json = JSON.parse(await fs.readFile(files.json, 'utf8'));
    const bin = await fs.readFile(files.bin);
    const a = artifactsForSize(json, bin, 256);
    const input = (a.modelTopology as { node: { op: string; attr: any }[] }).node.find((n) => n.op === 'Placeholder')!;
    expect((input.attr.shape.shape.dim as { size: string }[]).map((d) => d.size)).toEqual(['-1', '256', '256', '3']);
    // the package's own bytes are left alone
    const again = artifactsForSize(json, bin, 512);
    expect(Buffer.compare(Buffer.from(again.weightData as ArrayBuffer), bin)).toBe(0);
    expect(Buffer.compare(Buffer.from(a.weightData as ArrayBuffer), bin)).not.toBe(0);
    expect(() => artifactsForSize(json, bin.subarray(0, bin.length - 4), 256)).toThrow(/manifest describes/);
  });

  it('loads the vendored files only when they match SHA256SUMS', async () => {
    const files = backboneFiles();
    expect(path.relative(process.cwd(), path.dirname(files.json))).toBe(path.join('models', 'centernet'));
    const ok = await readBackboneFiles();
    expect(ok.bin.length).toBe((await fs.stat(files.bin)).size);
    const copy = path.join(home, 'centernet-copy');
    await fs.mkdir(copy);
    for (const f of [files.json, files.bin, files.sums]) await fs.copyFile(f, path.join(copy, path.basename(f)));
    await expect(readBackboneFiles(copy)).resolves.toBeTruthy();
    const bin = await fs.readFile(path.join(copy, 'centernet.bin'));
    bin[1000] ^= 1;
    await fs.writeFile(path.join(copy, 'centernet.bin'), bin);
    await expect(readBackboneFiles(copy)).rejects.toThrow(/centernet\.bin does not match its SHA-256/);
    await fs.rm(path.join(copy, 'centernet.json'));
    await expect(readBackboneFiles(copy)).rejects.toThrow(/files are missing/);
  });

  it('turns images into fixed-length features, batch-independent, cached on disk by content', async () => {
    const images = generatedSplit(6, 128, 7);
    const photos = imagesAsPhotos(images);
    const cacheDir = path.join(home, 'features');
    const a = await imageFeatures(images, { backbone: BACKBONE_ID, batchSize: 4, cacheDir, photos });
    expect(a.dim).toBe(BACKBONE_FEATURES);
    expect(a.data.length).toBe(6 * BACKBONE_FEATURES);
    expect(a.data.every(Number.isFinite)).toBe(true);
    const one = await imageFeatures({ n: 1, size: 128, pixels: images.pixels.subarray(0, 128 * 128 * 3), paths: images.paths.slice(0, 1) }, { backbone: BACKBONE_ID, batchSize: 1, photos });
    for (let i = 0; i < BACKBONE_FEATURES; i++) expect(one.data[i]).toBeCloseTo(a.data[i], 3);
    expect((await fs.readdir(cacheDir)).length).toBe(1);
    const cached = await imageFeatures(images, { backbone: BACKBONE_ID, cacheDir });
    expect(Array.from(cached.data)).toEqual(Array.from(a.data));
    const mirrored = await imageFeatures(images, { backbone: BACKBONE_ID, cacheDir, flip: true, photos });
    expect(Array.from(mirrored.data)).not.toEqual(Array.from(a.data));
    expect((await fs.readdir(cacheDir)).length).toBe(2);
  }, 120_000);

  it('saves in the layers format with the head weights only and loads back predicting the same', async () => {
    const model = buildCnn(head, 3);
    expect(pretrainedBackboneOf(model)).not.toBeNull();
    const images = generatedSplit(4, 128, 11);
    const photos = imagesAsPhotos(images);
    const before = await predictProbabilities(model, images, 64, { photos });
    const dir = path.join(home, 'saved');
    await saveModel(model, dir, { imageSize: 128 });
    const json = JSON.parse(await fs.readFile(path.join(dir, 'model.json'), 'utf8'));
    expect(JSON.stringify(json.modelTopology)).toContain('AreyouacatPretrainedBackbone');
    const weightBytes = (await fs.stat(path.join(dir, 'weights.bin'))).size;
    expect(weightBytes).toBeLessThan(200_000); // the detector's 4 MB stay in their package
    const loaded = await loadModel(dir);
    const after = await predictProbabilities(loaded, images, 64, { photos });
    for (let i = 0; i < 4; i++) expect(Math.abs(after[i] - before[i])).toBeLessThan(1e-5);
    model.dispose();
    loaded.dispose();
  }, 120_000);

  it('trains only the head, without leaking tensors, and tells cats from dogs on a cats-v1 subset', async (ctx) => {
    const splits = await catsV1Splits(16, 160);
    if (!splits) {
      console.warn(`skipped: cats-v1 not found at ${catsV1Dir()} (set AREYOUACAT_CATS_V1)`);
      ctx.skip();
      return;
    }
    const model = buildCnn({ ...head, imageSize: 160 }, 1);
    const backboneWeights = model.layers[0].getWeights().length;
    const tensorsPerEpoch: number[] = [];
    const result = await trainModel({ ...head, imageSize: 160 }, splits.train, splits.val, {
      epochs: 12, seed: 1, classWeight: 'balanced', model, featureCacheDir: path.join(home, 'features'), photos: catsV1Photos,
      callbacks: { onEpochEnd: () => void tensorsPerEpoch.push(tf.memory().numTensors) },
    });
    expect(backboneWeights).toBe(0);
    expect(new Set(tensorsPerEpoch.slice(1)).size).toBe(1);
    const best = result.history[result.bestEpoch];
    console.log('backbone head val_auc per epoch', result.history.map((h) => h.val_auc.toFixed(3)).join(' '));
    expect(best.val_auc).toBeGreaterThan(0.9);
    // the full model (backbone + trained head) gives what the head gave on the features
    const probs = await predictProbabilities(result.model, splits.val, 64, { photos: catsV1Photos });
    let dogAbove = 0, catAbove = 0, cats = 0, dogs = 0;
    splits.val.groups.forEach((g, i) => {
      if (g === 'cat') { cats++; if (probs[i] >= 0.5) catAbove++; }
      if (g === 'dog') { dogs++; if (probs[i] >= 0.5) dogAbove++; }
    });
    expect(catAbove / cats).toBeGreaterThan(dogAbove / dogs);
    result.model.dispose();
  }, 300_000);
});
