import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '../../src/tfjs/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineFor } from '../../src/model/engine.js';
import { IMAGENET_FEATURES, IMAGENET_POOLED, loadImagenetNet, zeroShotCat, zeroShotFromFeatures } from '../../src/model/imagenet-mobilenet.js';
import { photoWholeView, viewFeatures } from '../../src/model/photo-features.js';
import { selectBackend } from '../../src/model/backend.js';
import { IMAGENET_MOBILENET_V1 } from '../../src/model-files/index.js';
import { catsV1Dir } from './fixtures.js';

const MIRROR = path.resolve(process.env.AREYOUACAT_MODEL_MIRROR ?? '../shared/models');
const haveModel = await fs.access(path.join(MIRROR, IMAGENET_MOBILENET_V1.folder, 'model.json')).then(() => true, () => false);
const haveCats = await fs.access(path.join(catsV1Dir(), 'manifest.csv')).then(() => true, () => false);
if (!haveModel || !haveCats) console.warn(`ImageNet backbone tests skipped: need ${MIRROR} and cats-v1 at ${catsV1Dir()}`);
const ID = 'imagenet-mobilenet-v1';

describe.skipIf(!haveModel || !haveCats)('the ImageNet MobileNet backbone', () => {
  let home: string;
  const saved = { home: process.env.AREYOUACAT_HOME, engine: process.env.AREYOUACAT_ENGINE };
  const photos: Buffer[] = [];

  beforeAll(async () => {
    home = await fs.mkdtemp(path.join(os.tmpdir(), 'ayac-imagenet-'));
    process.env.AREYOUACAT_HOME = home;
    await selectBackend({ prefer: 'wasm' });
    for (const group of ['cat', 'dog', 'misc']) {
      const files = (await fs.readdir(path.join(catsV1Dir(), group))).sort().slice(0, 3);
      for (const f of files) photos.push(await fs.readFile(path.join(catsV1Dir(), group, f)));
    }
  }, 120_000);
  /** Back to the engine of this run (the next test computes features on it). */
  const restoreEngine = () => {
    if (saved.engine === undefined) delete process.env.AREYOUACAT_ENGINE;
    else process.env.AREYOUACAT_ENGINE = saved.engine;
  };
  afterAll(async () => {
    restoreEngine();
    if (saved.home === undefined) delete process.env.AREYOUACAT_HOME;
    else process.env.AREYOUACAT_HOME = saved.home;
    await fs.rm(home, { recursive: true, force: true });
  });

  it('gives the same features on ONNX Runtime and on tfjs-wasm (within 1e-4), whole views of several shapes, plain and mirrored', async () => {
    const views = await Promise.all(photos.map((p) => photoWholeView(p, 224)));
    expect(new Set(views.map((v) => `${v.width}x${v.height}`)).size).toBeGreaterThan(1);
    // Both engines, whichever one this run uses elsewhere (AREYOUACAT_ENGINE), and ONNX Runtime must load here.
    process.env.AREYOUACAT_ENGINE = 'onnxruntime';
    expect(engineFor(ID)).toBe('onnxruntime');
    for (const flip of [false, true]) {
      process.env.AREYOUACAT_ENGINE = 'onnxruntime';
      const onnx = await viewFeatures(ID, views, flip, 4);
      process.env.AREYOUACAT_ENGINE = 'tfjs';
      expect(engineFor(ID)).toBe('tfjs-wasm');
      const wasm = await viewFeatures(ID, views, flip, 4);
      restoreEngine();
      expect(onnx.length).toBe(views.length * IMAGENET_FEATURES);
      // The pooled map to 1e-4; the two log-odds columns (up to +-13.8, log of float32 probabilities) as the
      // probabilities they stand for, to 1e-5.
      let pooled = 0;
      let prob = 0;
      const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
      for (let i = 0; i < onnx.length; i++) {
        const column = i % IMAGENET_FEATURES;
        if (column < IMAGENET_POOLED) pooled = Math.max(pooled, Math.abs(onnx[i] - wasm[i]));
        else prob = Math.max(prob, Math.abs(sigmoid(onnx[i]) - sigmoid(wasm[i])));
      }
      console.log(`imagenet features, ONNX Runtime vs tfjs-wasm, ${flip ? 'mirrored' : 'plain'}: pooled max abs difference ${pooled.toExponential(2)}, cat/dog probabilities ${prob.toExponential(2)}`);
      expect(pooled).toBeLessThan(1e-4);
      expect(prob).toBeLessThan(1e-5);
    }
  }, 300_000);

  it("keeps the classifier's cat log-odds in the recipe: the zero-shot answer read from the features is the classifier's own", async () => {
    const views = await Promise.all(photos.map((p) => photoWholeView(p, 224)));
    const features = await viewFeatures(ID, views, false, 4);
    const fromFeatures = zeroShotFromFeatures({ n: views.length, dim: IMAGENET_FEATURES, data: features });
    const net = await loadImagenetNet();
    for (const [i, v] of views.entries()) {
      const p = tf.tidy(() => zeroShotCat(net.run(tf.tensor4d(Float32Array.from(v.pixels), [1, v.height, v.width, 3]))[1]).dataSync()[0]);
      expect(Math.abs(p - fromFeatures[i])).toBeLessThan(1e-4);
      // The dog log-odds column is there too, and finite.
      expect(Number.isFinite(features[i * IMAGENET_FEATURES + IMAGENET_POOLED + 1])).toBe(true);
    }
    // The three cats score above every dog and misc photo, as ImageNet's classifier knows them apart.
    const cats = Array.from(fromFeatures.subarray(0, 3));
    const others = Array.from(fromFeatures.subarray(3));
    expect(Math.min(...cats)).toBeGreaterThan(Math.max(...others));
  }, 300_000);
});
