import type * as tf from '../tfjs/index.js';

/** A loaded backbone for one input shape: RGB 0..255 images in, one feature row per image out. */
export interface FeatureNet {
  features(images255: tf.Tensor4D): tf.Tensor2D;
}

/**
 * What the rest of the project needs of a frozen pretrained backbone: its id (part of every feature cache key,
 * saved model and feedback record), its feature width, the image sizes it accepts, and how to load it.
 */
export interface BackboneSpec {
  id: string;
  /**
   * The identity of the features in every cache key: the id, and the recipe when it is not the backbone's first
   * (so features of an earlier recipe are never read back as this one's).
   */
  cacheId: string;
  /** Width of a photo's feature vector. */
  features: number;
  /** Default shorter side of the whole view. */
  defaultImageSize: number;
  checkImageSize(size: number): void;
  /** Load (once per shape where the graph is shape-bound) for `height` x `width` inputs. */
  load(height: number, width: number): Promise<FeatureNet>;
  /** The net `load(height, width)` gave; throws when it has not been loaded (a Keras layer's `call` is synchronous). */
  loaded(height: number, width: number): FeatureNet;
  /**
   * Rows the network's pooled output (e.g. from ONNX Runtime) still needs to become the recipe's features: the
   * recipe's extra columns computed from them. Identity when the network gives the features themselves.
   */
  finish?(pooled: Float32Array, n: number): Promise<Float32Array>;
  /** Width of what the network itself outputs before `finish` (default `features`). */
  pooledWidth?: number;
  /**
   * A feature column that is already the log-odds of "cat" by the pretrained network itself (the ImageNet
   * classifier's cat classes): the head then learns a correction added to it (`buildCnn`), so on photos unlike
   * its training data it falls back to what the pretrained network knows.
   */
  priorColumn?: number;
}
