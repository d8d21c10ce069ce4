import * as tf from '../tfjs/index.js';
import { BACKBONE_VIEW } from './backbone.js';
import { backboneSpec } from './backbones.js';

export interface PretrainedBackboneConfig {
  backbone: string;
  imageSize: number;
  /** The view of a photo the head was trained on (BACKBONE_VIEW); models saved without one used the centre square. */
  view?: string;
  name?: string;
}

/** A saved model whose head was trained on another view's features (e.g. the former centre squares). */
export class OutdatedBackboneViewError extends Error {
  override readonly name = 'OutdatedBackboneViewError';
}

/** The error for a saved model whose head was trained on another view's features (e.g. the former centre squares). */
export function outdatedViewError(view: string | undefined, backbone = 'coco-centernet'): Error {
  return new OutdatedBackboneViewError(
    `this model's head was trained on ${backbone} features of ${view ? `the "${view}" view` : 'the centre square (saved before the whole-photo view)'}; ` +
      `the backbone now describes the "${BACKBONE_VIEW}" view of a photo, so the model cannot be used: train it again (e.g. areyouacat pipeline deploy)`,
  );
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
  readonly view: string;

  constructor(config: PretrainedBackboneConfig) {
    super({ name: config.name ?? 'backbone', trainable: false });
    backboneSpec(config.backbone).checkImageSize(config.imageSize);
    this.backbone = config.backbone;
    this.imageSize = config.imageSize;
    if (config.view !== BACKBONE_VIEW) throw outdatedViewError(config.view, config.backbone);
    this.view = config.view;
  }

  computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [shape[0], backboneSpec(this.backbone).features];
  }

  /** On an imageSize x imageSize input (a square photo's whole view); photos of other shapes go through `predictPhotoViews`. */
  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    return tf.tidy(() => backboneSpec(this.backbone).loaded(this.imageSize, this.imageSize).features(tf.mul<tf.Tensor4D>(x, 255)));
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), backbone: this.backbone, imageSize: this.imageSize, view: this.view };
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
export function headOf(model: tf.LayersModel, backbone: PretrainedBackbone | null = pretrainedBackboneOf(model)): tf.LayersModel {
  if (!backbone) throw new Error(`model ${model.name} has no pretrained backbone, so no head over backbone features`);
  let head = heads.get(model);
  if (!head) heads.set(model, (head = buildHead(model, backbone)));
  return head;
}

const heads = new WeakMap<tf.LayersModel, tf.LayersModel>();

function buildHead(model: tf.LayersModel, backbone: PretrainedBackbone): tf.LayersModel {
  const at = model.layers.indexOf(backbone);
  const input = tf.input({ shape: [backboneSpec(backbone.backbone).features], name: 'backbone_features' });
  let h: tf.SymbolicTensor = input;
  for (const layer of model.layers.slice(at + 1)) h = layer.apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: h, name: `${model.name}_head` });
}
