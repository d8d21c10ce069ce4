import * as tf from '../tfjs/index.js';

/** Every layer of `model`, depth first, the layers of nested models (a backbone classifier's head) included. */
export function allLayers(model: tf.LayersModel): tf.layers.Layer[] {
  const out: tf.layers.Layer[] = [];
  for (const layer of model.layers) {
    out.push(layer);
    if (layer instanceof tf.LayersModel) out.push(...allLayers(layer));
  }
  return out;
}
