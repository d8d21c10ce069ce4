import * as tf from '@tensorflow/tfjs';
import { BACKBONE_FEATURES, BACKBONE_ID, backboneFeatures, checkBackboneImageSize, loadedBackbone } from './backbone.js';

export interface PretrainedBackboneConfig {
  backbone: string;
  imageSize: number;
  name?: string;
}

/**
 * The frozen pretrained backbone as a Keras-style layer, so that backbone + trained head are one LayersModel:
 * saved in the layers format (the backbone's weights stay in their npm package, the model.json names it),
 * predicted, evaluated and served like any CNN. Inputs are RGB in [0, 1] like every model here.
 */
export class PretrainedBackbone extends tf.layers.Layer {
  static className = 'AreyouacatPretrainedBackbone';
  readonly backbone: string;
  readonly imageSize: number;

  constructor(config: PretrainedBackboneConfig) {
    super({ name: config.name ?? 'backbone', trainable: false });
    if (config.backbone !== BACKBONE_ID) throw new Error(`unknown backbone "${config.backbone}" (known: ${BACKBONE_ID})`);
    checkBackboneImageSize(config.imageSize);
    this.backbone = config.backbone;
    this.imageSize = config.imageSize;
  }

  computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [shape[0], BACKBONE_FEATURES];
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    return tf.tidy(() => backboneFeatures(loadedBackbone(this.imageSize), tf.mul<tf.Tensor4D>(x, 255)));
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), backbone: this.backbone, imageSize: this.imageSize };
  }
}
tf.serialization.registerClass(PretrainedBackbone);

/** The backbone layer of a model built on one (its first layer after the input), else null. */
export function pretrainedBackboneOf(model: tf.LayersModel): PretrainedBackbone | null {
  return model.layers.find((l): l is PretrainedBackbone => l instanceof PretrainedBackbone) ?? null;
}

/**
 * The layers after the backbone as their own model over feature vectors, sharing the weights: training the
 * head on precomputed features trains the whole model.
 */
export function headOf(model: tf.LayersModel, backbone: PretrainedBackbone): tf.LayersModel {
  let head = heads.get(model);
  if (!head) heads.set(model, (head = buildHead(model, backbone)));
  return head;
}

const heads = new WeakMap<tf.LayersModel, tf.LayersModel>();

function buildHead(model: tf.LayersModel, backbone: PretrainedBackbone): tf.LayersModel {
  const at = model.layers.indexOf(backbone);
  const input = tf.input({ shape: [BACKBONE_FEATURES], name: 'backbone_features' });
  let h: tf.SymbolicTensor = input;
  for (const layer of model.layers.slice(at + 1)) h = layer.apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: h, name: `${model.name}_head` });
}
