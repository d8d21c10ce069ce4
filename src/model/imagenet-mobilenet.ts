import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ensureModelFiles, IMAGENET_MOBILENET_V1, readVerified, type PullOptions } from '../model-files/index.js';
import { selectBackend } from './backend.js';
import type { BackboneSpec, FeatureNet } from './backbone-spec.js';

/**
 * The ImageNet MobileNet v1 0.75 as a frozen backbone: Google's Keras model in the TensorFlow.js layers format,
 * fetched into the data folder's model cache (`src/model-files`) and checked against SHA-256 pins at every load.
 * A photo becomes the mean over height and width of its last feature map (`conv_pw_13_relu`, 768 channels). The
 * network is fully convolutional up to that map, so one model (input [n, any, any, 3]) serves every whole-view shape.
 * It also answers "cat" without training: the softmax's five domestic-cat classes summed (the zero-shot baseline).
 */
export const IMAGENET_BACKBONE_ID = IMAGENET_MOBILENET_V1.id;
export const IMAGENET_FEATURES = 768;
/** The feature map the recipe pools, and the classifier's output layer (softmax over 1,000 classes). */
export const IMAGENET_FEATURE_LAYER = 'conv_pw_13_relu';
export const IMAGENET_PROBS_LAYER = 'act_softmax';
/** ImageNet's domestic cat classes: tabby, tiger cat, Persian, Siamese, Egyptian cat. */
export const IMAGENET_CAT_CLASSES = [281, 282, 283, 284, 285] as const;

export function checkImagenetImageSize(size: number): void {
  if (!Number.isInteger(size) || size < 96 || size > 512 || size % 32 !== 0) {
    throw new Error(`the ${IMAGENET_BACKBONE_ID} backbone needs an image size that is a multiple of 32 between 96 and 512 (got ${size})`);
  }
}

interface KerasLayer {
  class_name: string;
  config: Record<string, unknown> & { name: string };
}

/** The model's artifacts with a free input height and width, from its checked files (name -> bytes). */
export function imagenetArtifacts(files: Map<string, Buffer>): tf.io.ModelArtifacts {
  const json = JSON.parse(files.get('model.json')!.toString('utf8')) as {
    modelTopology: { model_config: { config: { layers: KerasLayer[] } } };
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  const topology = structuredClone(json.modelTopology);
  const input = topology.model_config.config.layers.find((l) => l.class_name === 'InputLayer');
  if (!input) throw new Error(`${IMAGENET_BACKBONE_ID}: model.json has no input layer`);
  input.config.batch_input_shape = [null, null, null, 3];
  const parts = json.weightsManifest.flatMap((g) => g.paths.map((p) => files.get(path.posix.basename(p))));
  if (parts.some((p) => !p)) throw new Error(`${IMAGENET_BACKBONE_ID}: model.json names a weights file that is not pinned`);
  const data = Buffer.concat(parts as Buffer[]);
  return {
    modelTopology: topology,
    weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
    weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
  };
}

/** The loaded network with two outputs: the last feature map and the 1,000 class probabilities. */
export interface ImagenetNet {
  /** The whole Keras classifier (input [n, any, any, 3] in [-1, 1]), e.g. for an ONNX export. */
  full: tf.LayersModel;
  model: tf.LayersModel;
  /** The 1x1 convolution from the pooled 768 features to the 1,000 logits, as a dense layer: [768, 1000] and [1000]. */
  classifier: { kernel: tf.Tensor2D; bias: tf.Tensor1D };
  /** [n, h, w, 768] and [n, 1000] of RGB 0..255 images. */
  run(images255: tf.Tensor4D): [tf.Tensor4D, tf.Tensor2D];
}

let loaded: ImagenetNet | null = null;
let loading: Promise<ImagenetNet> | null = null;

/** Load the network once per process: files from the cache (pulled on first use), checked, on the fastest backend. */
export function loadImagenetNet(options: PullOptions = {}): Promise<ImagenetNet> {
  if (!loading) {
    loading = (async () => {
      const dir = await ensureModelFiles(IMAGENET_BACKBONE_ID, options);
      const files = await readVerified(IMAGENET_MOBILENET_V1, dir);
      await selectBackend(); // the weights live on the backend that is current when they load
      const full = await tf.loadLayersModel(tf.io.fromMemory(imagenetArtifacts(files)));
      const model = tf.model({ inputs: full.inputs, outputs: [full.getLayer(IMAGENET_FEATURE_LAYER).output as tf.SymbolicTensor, full.getLayer(IMAGENET_PROBS_LAYER).output as tf.SymbolicTensor] });
      const [kernel, bias] = full.getLayer('conv_preds').getWeights();
      const net: ImagenetNet = {
        full,
        model,
        classifier: { kernel: kernel.reshape<tf.Tensor2D>([IMAGENET_FEATURES, -1]), bias: bias as tf.Tensor1D },
        run: (images255) =>
          tf.tidy(() => {
            const [maps, probs] = model.predict(tf.sub(tf.div(images255, 127.5), 1)) as tf.Tensor[];
            return [maps as tf.Tensor4D, probs.reshape<tf.Tensor2D>([images255.shape[0], -1])];
          }),
      };
      loaded = net;
      return net;
    })();
    loading.catch(() => (loading = null));
  }
  return loading;
}

export function loadedImagenetNet(): ImagenetNet {
  if (!loaded) throw new Error(`the ${IMAGENET_BACKBONE_ID} backbone is not loaded: call loadBackboneNet first`);
  return loaded;
}

/** P(cat) of the ImageNet classifier alone: its five domestic-cat classes' probabilities summed. */
export function zeroShotCat(probs: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.sum<tf.Tensor1D>(tf.gather(probs, [...IMAGENET_CAT_CLASSES], 1), 1));
}

/**
 * The zero-shot P(cat) from pooled features already computed (n rows of 768): the pooled map is exactly what the
 * classifier reads (global average pooling, then a 1x1 convolution and the softmax), so the baseline costs no
 * second pass through the network.
 */
export async function zeroShotFromFeatures(features: { n: number; dim: number; data: Float32Array }): Promise<Float32Array> {
  if (features.dim !== IMAGENET_FEATURES) throw new Error(`zero-shot baseline: ${features.dim} features per photo, the ${IMAGENET_BACKBONE_ID} classifier reads ${IMAGENET_FEATURES}`);
  const net = await loadImagenetNet();
  const p = tf.tidy(() => {
    const logits = tf.add<tf.Tensor2D>(tf.matMul(tf.tensor2d(features.data, [features.n, features.dim]), net.classifier.kernel), net.classifier.bias);
    return zeroShotCat(tf.softmax<tf.Tensor2D>(logits));
  });
  const out = (await p.data()) as Float32Array;
  p.dispose();
  return out;
}

function featureNet(net: ImagenetNet): FeatureNet {
  return {
    features: (images255) =>
      tf.tidy(() => {
        const [maps, probs] = net.run(images255);
        probs.dispose();
        return maps.mean<tf.Tensor2D>([1, 2]);
      }),
  };
}

export const IMAGENET_MOBILENET_BACKBONE: BackboneSpec = {
  id: IMAGENET_BACKBONE_ID,
  features: IMAGENET_FEATURES,
  defaultImageSize: 224,
  checkImageSize: checkImagenetImageSize,
  load: async () => featureNet(await loadImagenetNet()),
  loaded: () => featureNet(loadedImagenetNet()),
};

/** What the zero-shot baseline is, in words for reports and cards. */
export const ZERO_SHOT_BASELINE = {
  name: 'imagenet-zero-shot',
  description: `the ImageNet classifier alone, no training: P(cat) = the sum of its five domestic-cat classes (${IMAGENET_CAT_CLASSES.join(', ')}), mean over the photo and its mirror image`,
} as const;
