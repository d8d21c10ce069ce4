import * as tf from '../../src/tfjs/index.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/model/backend.js';
import { exportLayersModel, exportStages, layersStage, scalePixels } from '../../src/onnx/export.js';
import { OnnxSession } from '../../src/onnx/runtime.js';
import { catsV1Batch, catsV1Dir, loadMobilenet, maxAbsDiff, mobilenetAtSize, randomizeBatchNorms, sharedModelsDir } from './helpers.js';
import { checkWithOnnxPackage } from './onnx-checker.js';

/**
 * The ImageNet MobileNet v1 0.75 of the shared models folder, exported to ONNX and run on real cats-v1 photos in
 * ONNX Runtime and in tfjs-wasm: features and p_cat must agree to 1e-4.
 */

const TOLERANCE = 1e-4;
const SIZE = 224;
const COUNT = 8;
const PIXELS = { scale: 1 / 127.5, offset: -1 };

let model: tf.LayersModel | null = null;
let photos: { pixels: Float32Array; files: string[] } | null = null;
let missing = '';

beforeAll(async () => {
  await selectBackend({ prefer: 'wasm' });
  model = await loadMobilenet();
  photos = await catsV1Batch(COUNT, SIZE);
  if (!model) missing = `the MobileNet model is missing from ${sharedModelsDir()}`;
  else if (!photos) missing = `cats-v1 is missing from ${catsV1Dir()}`;
  if (missing) console.warn(`skipping the MobileNet ONNX tests: ${missing}`);
});

/** tfjs-wasm features: pixels 0..255 scaled to [-1, 1], conv_pw_13_relu, mean over height and width. */
function tfjsFeatures(net: tf.LayersModel, images: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => {
    const truncated = tf.model({ inputs: net.inputs, outputs: net.getLayer('conv_pw_13_relu').output });
    return (truncated.predict(images.mul(PIXELS.scale).add(PIXELS.offset)) as tf.Tensor4D).mean([1, 2]);
  });
}

describe('MobileNet v1 0.75 exported to ONNX', () => {
  it('gives the pooled conv_pw_13_relu features of tfjs-wasm on real photos', async ({ skip }) => {
    if (missing) skip(missing);
    const bytes = exportLayersModel(model!, { outputLayer: 'conv_pw_13_relu', pool: 'mean', pixelTransform: PIXELS });
    await checkWithOnnxPackage(bytes);
    const session = await OnnxSession.create(bytes, { intraOpNumThreads: 1 });
    const out = await session.run({ data: photos!.pixels, dims: [COUNT, SIZE, SIZE, 3] });
    await session.release();
    expect(out.dims).toEqual([COUNT, 768]);
    const images = tf.tensor4d(photos!.pixels, [COUNT, SIZE, SIZE, 3]);
    const expected = tfjsFeatures(model!, images);
    const diff = maxAbsDiff(expected.dataSync(), out.data);
    tf.dispose([images, expected]);
    console.log(`MobileNet features, ${COUNT} photos: max abs difference ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(TOLERANCE);
  });

  it('gives the whole network (softmax over 1,000 classes) of tfjs-wasm', async ({ skip }) => {
    if (missing) skip(missing);
    const bytes = exportLayersModel(model!, { pixelTransform: PIXELS });
    const session = await OnnxSession.create(bytes);
    const out = await session.run({ data: photos!.pixels, dims: [COUNT, SIZE, SIZE, 3] });
    await session.release();
    expect(out.dims).toEqual([COUNT, 1000]);
    const expected = tf.tidy(() => model!.predict(tf.tensor4d(photos!.pixels, [COUNT, SIZE, SIZE, 3]).mul(PIXELS.scale).add(PIXELS.offset)) as tf.Tensor);
    expect(maxAbsDiff(expected.dataSync(), out.data)).toBeLessThan(TOLERANCE);
    expected.dispose();
  });

  it('with dynamicSize, runs at any height and width as tfjs does at that size ("same" padding per TensorFlow)', async ({ skip }) => {
    if (missing) skip(missing);
    const bytes = exportLayersModel(model!, { outputLayer: 'conv_pw_13_relu', pool: 'mean', dynamicSize: true });
    const session = await OnnxSession.create(bytes);
    for (const [h, w] of [[161, 200], [96, 128]]) {
      const resized = await mobilenetAtSize(model!, h, w);
      const x = tf.randomUniform([2, h, w, 3], -1, 1, 'float32', h);
      const expected = tf.tidy(() => {
        const truncated = tf.model({ inputs: resized.inputs, outputs: resized.getLayer('conv_pw_13_relu').output });
        return (truncated.predict(x) as tf.Tensor4D).mean([1, 2]);
      });
      const out = await session.run({ data: x.dataSync() as Float32Array, dims: [2, h, w, 3] });
      expect(out.dims).toEqual([2, 768]);
      expect(maxAbsDiff(expected.dataSync(), out.data)).toBeLessThan(TOLERANCE);
      tf.dispose([x, expected]);
      resized.dispose();
    }
    await session.release();
  });

  it('composes features and a head into pixels in, p_cat out, with the mirror mean', async ({ skip }) => {
    if (missing) skip(missing);
    // A head of the project's shape (batch norm, dropout, dense ReLU, dropout, sigmoid) over the 768 features.
    const head = tf.sequential({
      layers: [
        tf.layers.batchNormalization({ inputShape: [768], name: 'feature_norm' }),
        tf.layers.dropout({ rate: 0.3 }),
        tf.layers.dense({ units: 32, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
        tf.layers.dropout({ rate: 0.3 }),
        tf.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }), name: 'p_cat' }),
      ],
    });
    randomizeBatchNorms(head);
    const stages = [scalePixels(PIXELS), layersStage(model!, { outputLayer: 'conv_pw_13_relu', pool: 'mean' }), layersStage(head)];
    const bytes = exportStages(stages, { inputShape: [null, SIZE, SIZE, 3], outputShape: [null, 1], outputName: 'p_cat', mirrorMean: true });
    await checkWithOnnxPackage(bytes);
    const session = await OnnxSession.create(bytes);
    expect(session.outputNames).toEqual(['p_cat']);
    const out = await session.run({ data: photos!.pixels, dims: [COUNT, SIZE, SIZE, 3] });
    await session.release();
    const images = tf.tensor4d(photos!.pixels, [COUNT, SIZE, SIZE, 3]);
    const [plainFeatures, mirroredFeatures] = [tfjsFeatures(model!, images), tfjsFeatures(model!, tf.reverse(images, 2))];
    const expected = tf.tidy(() => (head.predict(plainFeatures) as tf.Tensor).add(head.predict(mirroredFeatures) as tf.Tensor).div(2));
    const pCat = expected.dataSync();
    const diff = maxAbsDiff(pCat, out.data);
    tf.dispose([images, plainFeatures, mirroredFeatures, expected]);
    console.log(`MobileNet + head, mirror mean, ${COUNT} photos: p_cat max abs difference ${diff.toExponential(2)}`);
    expect(out.dims).toEqual([COUNT, 1]);
    expect(diff).toBeLessThan(TOLERANCE);
    // The mirror mean is not the plain output: the mirrored half really runs.
    const plainOnly = tf.tidy(() => head.predict(tfjsFeatures(model!, tf.tensor4d(photos!.pixels, [COUNT, SIZE, SIZE, 3]))) as tf.Tensor);
    expect(maxAbsDiff(plainOnly.dataSync(), out.data)).toBeGreaterThan(TOLERANCE);
    plainOnly.dispose();
  });
});
