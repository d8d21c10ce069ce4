/**
 * TensorFlow.js as this project uses it: import it from here (`import * as tf from '../tfjs/index.js'`), not from a
 * package. It is built from the scoped packages the code needs instead of the `@tensorflow/tfjs` union package,
 * which also brings the WebGL backend, tfjs-data and its browser bundles (176 MB of a production install):
 *  - `@tensorflow/tfjs-core`: tensors, ops, `tf.io`, `tf.train`, `tf.image`, `tf.serialization`, kernel registry;
 *  - `@tensorflow/tfjs-layers`: `tf.layers`, `tf.sequential`, `tf.model`, `tf.loadLayersModel`... (loading it
 *    also registers the ops' gradients, as the union package does);
 *  - `@tensorflow/tfjs-converter`: `tf.loadGraphModel` (the pretrained backbones are graph models);
 *  - `@tensorflow/tfjs-backend-cpu`: the pure-JS backend, registered on import (the last resort);
 *  - the chained tensor methods (`x.reshape(...)`), which the union package adds and the scoped packages' Node
 *    builds do not (chained-ops.ts).
 * The wasm backend (`@tensorflow/tfjs-backend-wasm`) is loaded, given this project's training kernels and chosen by
 * src/model/backend.ts. CommonJS-compatible on purpose (no import.meta, no top-level await): notebooks import it.
 */
import '@tensorflow/tfjs-backend-cpu';
import './chained-ops.js';

export * from '@tensorflow/tfjs-core';
export * from '@tensorflow/tfjs-layers';
export * from '@tensorflow/tfjs-converter';
