import * as tf from '../../src/tfjs/index.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { BACKBONE_ID } from '../../src/model/backbone.js';
import { selectBackend } from '../../src/model/backend.js';
import { buildCnn, REFERENCE_HYPERPARAMETERS } from '../../src/model/cnn.js';
import { OnnxExportError, UnsupportedOnnxOpError } from '../../src/onnx/errors.js';
import { exportLayersModel, exportStages } from '../../src/onnx/export.js';

/** What the exporter cannot write is a typed error naming it, never a graph. */

beforeAll(async () => {
  await selectBackend({ prefer: 'wasm' });
});

function convModel(extra: tf.layers.Layer): tf.LayersModel {
  return tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [8, 8, 3], filters: 2, kernelSize: 3 }), extra, tf.layers.flatten()] });
}

function exportError(model: tf.LayersModel, options = {}): unknown {
  try {
    exportLayersModel(model, options);
  } catch (err) {
    return err;
  }
  throw new Error('the export did not fail');
}

describe('unsupported layers and activations', () => {
  it('an unknown layer class is an UnsupportedOnnxOpError naming the class and the layer', () => {
    const err = exportError(convModel(tf.layers.upSampling2d({ size: [2, 2], name: 'grow' })));
    expect(err).toBeInstanceOf(UnsupportedOnnxOpError);
    expect((err as UnsupportedOnnxOpError).op).toBe('layer UpSampling2D');
    expect((err as Error).message).toMatch(/UpSampling2D.*"grow"/);
  });

  it('an unknown activation is an UnsupportedOnnxOpError naming it', () => {
    const err = exportError(convModel(tf.layers.activation({ activation: 'selu', name: 'act' })));
    expect(err).toBeInstanceOf(UnsupportedOnnxOpError);
    expect((err as UnsupportedOnnxOpError).op).toBe('activation selu');
  });

  it('a conv with an unknown activation of its own is refused too', () => {
    const model = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [8, 8, 3], filters: 2, kernelSize: 3, activation: 'mish' })] });
    expect(exportError(model)).toBeInstanceOf(UnsupportedOnnxOpError);
  });

  it('batch norm over an axis other than the channels is refused', () => {
    const err = exportError(convModel(tf.layers.batchNormalization({ axis: 1 })));
    expect(err).toBeInstanceOf(UnsupportedOnnxOpError);
    expect((err as Error).message).toMatch(/BatchNormalization over axis 1/);
  });

  it("the pretrained backbone layer needs a stage for it (customLayers), else it is named", () => {
    const classifier = buildCnn({ ...REFERENCE_HYPERPARAMETERS, imageSize: 256, backbone: BACKBONE_ID }, 1);
    const err = exportError(classifier);
    expect(err).toBeInstanceOf(UnsupportedOnnxOpError);
    expect((err as UnsupportedOnnxOpError).op).toBe('layer AreyouacatPretrainedBackbone');
    classifier.dispose();
  });

  it('a truncation at a layer the model does not have is an OnnxExportError listing its layers', () => {
    const err = exportError(convModel(tf.layers.activation({ activation: 'relu', name: 'act' })), { outputLayer: 'conv_pw_13_relu' });
    expect(err).toBeInstanceOf(OnnxExportError);
    expect((err as Error).message).toMatch(/no layer "conv_pw_13_relu".*act/);
  });

  it('the mirror mean needs an image input', () => {
    expect(() => exportStages([], { inputShape: [null, 10], outputShape: [null, 10], mirrorMean: true })).toThrow(OnnxExportError);
  });
});
