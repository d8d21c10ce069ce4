import * as tf from '../../src/tfjs/index.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { BACKBONE_FEATURES, BACKBONE_ID } from '../../src/model/backbone.js';
import { headOf } from '../../src/model/backbone-layer.js';
import { selectBackend } from '../../src/model/backend.js';
import { buildCnn, REFERENCE_HYPERPARAMETERS, type CnnHyperparameters } from '../../src/model/cnn.js';
import { exportLayersModel } from '../../src/onnx/export.js';
import { OnnxSession } from '../../src/onnx/runtime.js';
import { catsV1Batch, catsV1Dir, maxAbsDiff, randomizeBatchNorms } from './helpers.js';
import { checkWithOnnxPackage } from './onnx-checker.js';

/** The project's own models (the from-scratch CNN, the head over backbone features) through both engines. */

const TOLERANCE = 1e-4;

beforeAll(async () => {
  await selectBackend({ prefer: 'wasm' });
});

async function onnxPredict(bytes: Uint8Array, data: Float32Array, dims: number[]): Promise<Float32Array> {
  await checkWithOnnxPackage(bytes);
  const session = await OnnxSession.create(bytes, { intraOpNumThreads: 1 });
  try {
    const out = await session.run({ data, dims });
    expect(out.dims).toEqual([dims[0], 1]);
    return out.data;
  } finally {
    await session.release();
  }
}

const CNNS: [string, Partial<CnnHyperparameters>][] = [
  ['3 blocks, batch norm, dropout', { imageSize: 64, convBlocks: 3, filters: 8, kernelSize: 3, batchNorm: true, dropout: 0.25, denseUnits: 16 }],
  ['2 blocks of 5x5, no batch norm, odd size', { imageSize: 45, convBlocks: 2, filters: [6, 12], kernelSize: 5, batchNorm: false, dropout: 0, denseUnits: 8 }],
];

describe('the from-scratch CNN (buildCnn) exported to ONNX', () => {
  for (const [label, hp] of CNNS) {
    it(`gives tfjs-wasm's p_cat on real photos: ${label}`, async ({ skip }) => {
      const size = hp.imageSize!;
      const photos = await catsV1Batch(8, size);
      if (!photos) skip(`cats-v1 is missing from ${catsV1Dir()}`);
      const model = buildCnn({ ...REFERENCE_HYPERPARAMETERS, ...hp }, 3);
      randomizeBatchNorms(model);
      // The CNN reads RGB in [0, 1]; the export scales 0..255 pixels itself.
      const bytes = exportLayersModel(model, { pixelTransform: { scale: 1 / 255, offset: 0 }, outputName: 'p_cat' });
      const got = await onnxPredict(bytes, photos!.pixels, [8, size, size, 3]);
      const expected = tf.tidy(() => model.predict(tf.tensor4d(photos!.pixels, [8, size, size, 3]).div(255)) as tf.Tensor);
      const want = expected.dataSync();
      expected.dispose();
      // A spread of answers, so the comparison is not between saturated sigmoids.
      expect(Math.max(...want) - Math.min(...want)).toBeGreaterThan(1e-3);
      expect(maxAbsDiff(want, got)).toBeLessThan(TOLERANCE);
      model.dispose();
    });
  }
});

describe('the head over backbone features (headOf a buildCnn backbone classifier) exported to ONNX', () => {
  it("gives tfjs-wasm's p_cat on feature vectors", async () => {
    const hp: CnnHyperparameters = { ...REFERENCE_HYPERPARAMETERS, imageSize: 256, backbone: BACKBONE_ID, dropout: 0.3, denseUnits: 32 };
    const classifier = buildCnn(hp, 5);
    const head = headOf(classifier);
    expect(head.layers.map((l) => l.getClassName())).toContain('BatchNormalization');
    randomizeBatchNorms(head);
    const n = 16;
    // Feature-like vectors: non-negative, of different scales per feature.
    const features = tf.tidy(() => tf.randomUniform([n, BACKBONE_FEATURES], 0, 1, 'float32', 11).mul(tf.randomUniform([1, BACKBONE_FEATURES], 0.1, 4, 'float32', 12)));
    const data = features.dataSync() as Float32Array;
    const bytes = exportLayersModel(head, { outputName: 'p_cat' });
    await checkWithOnnxPackage(bytes);
    const session = await OnnxSession.create(bytes, { intraOpNumThreads: 1 });
    const out = await session.run({ data, dims: [n, BACKBONE_FEATURES] });
    await session.release();
    const expected = tf.tidy(() => head.predict(features) as tf.Tensor);
    const want = expected.dataSync();
    expect(out.dims).toEqual([n, 1]);
    expect(Math.max(...want) - Math.min(...want)).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(want, out.data)).toBeLessThan(TOLERANCE);
    tf.dispose([features, expected]);
    classifier.dispose();
  });
});
