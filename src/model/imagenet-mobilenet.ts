import path from 'node:path';
import * as tf from '../tfjs/index.js';
import { ensureModelFiles, IMAGENET_MOBILENET_V1, readVerified, type PullOptions } from '../model-files/index.js';
import { selectBackend } from './backend.js';
import type { BackboneSpec, FeatureNet } from './backbone-spec.js';

/**
 * The ImageNet MobileNet v1 0.75 as a frozen backbone: Google's Keras model in the TensorFlow.js layers format,
 * fetched into the data folder's model cache (`src/model-files`) and checked against SHA-256 pins at every load.
 * A photo becomes the mean over height and width of its last feature map (`conv_pw_13_relu`, 768 channels), then
 * two numbers of the classifier on top of it: the log-odds of its five domestic-cat classes and of its 118 dog
 * breeds (together), so a head that meets a hamster or a rabbit it never saw can lean on what ImageNet knows. The
 * network is fully convolutional up to that map, so one model (input [n, any, any, 3]) serves every whole-view shape.
 * It also answers "cat" without training: the softmax's five domestic-cat classes summed (the zero-shot baseline).
 */
export const IMAGENET_BACKBONE_ID = IMAGENET_MOBILENET_V1.id;
/** Channels of the pooled feature map, what the network itself outputs. */
export const IMAGENET_POOLED = 768;
/** The recipe's features: the pooled map, then the classifier's cat and dog log-odds. */
export const IMAGENET_FEATURES = IMAGENET_POOLED + 2;
/** The recipe, part of every feature cache key: 'pool768' alone was the first. */
export const IMAGENET_RECIPE = 'pool768+catdog-logodds';
/** The feature map the recipe pools, and the classifier's output layer (softmax over 1,000 classes). */
export const IMAGENET_FEATURE_LAYER = 'conv_pw_13_relu';
export const IMAGENET_PROBS_LAYER = 'act_softmax';
/** ImageNet's domestic cat classes: tabby, tiger cat, Persian, Siamese, Egyptian cat. */
export const IMAGENET_CAT_CLASSES = [281, 282, 283, 284, 285] as const;
/** ImageNet's dog breeds (151 Chihuahua ... 268 Mexican hairless). */
export const IMAGENET_DOG_CLASSES = Array.from({ length: 268 - 151 + 1 }, (_, i) => 151 + i);

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
        classifier: { kernel: kernel.reshape<tf.Tensor2D>([IMAGENET_POOLED, -1]), bias: bias as tf.Tensor1D },
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
 * The zero-shot P(cat) from the recipe's features already computed: their column 768 is the classifier's cat
 * log-odds (the pooled map is exactly what the classifier reads: global average pooling, then a 1x1 convolution
 * and the softmax), so the baseline costs no second pass through the network.
 */
export function zeroShotFromFeatures(features: { n: number; dim: number; data: Float32Array }): Float32Array {
  if (features.dim !== IMAGENET_FEATURES) throw new Error(`zero-shot baseline: ${features.dim} features per photo, the ${IMAGENET_BACKBONE_ID} recipe has ${IMAGENET_FEATURES}`);
  const out = new Float32Array(features.n);
  for (let i = 0; i < features.n; i++) out[i] = 1 / (1 + Math.exp(-features.data[i * features.dim + IMAGENET_POOLED]));
  return out;
}

/** Probabilities are clipped to [LOG_ODDS_LIMIT, 1 - LOG_ODDS_LIMIT] before their log-odds. */
export const LOG_ODDS_LIMIT = 1e-6;
/** log(p / (1 - p)) of p clipped to [1e-6, 1 - 1e-6]. */
function logOdds(p: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const c = tf.clipByValue(p, LOG_ODDS_LIMIT, 1 - LOG_ODDS_LIMIT);
    return tf.sub<tf.Tensor1D>(tf.log(c), tf.log(tf.sub(1, c)));
  });
}

/** The recipe's features from pooled maps [n, 768]: the pooled values, then the cat and dog log-odds. */
export function withCatDogLogOdds(pooled: tf.Tensor2D, classifier: ImagenetNet['classifier']): tf.Tensor2D {
  return tf.tidy(() => {
    const probs = tf.softmax<tf.Tensor2D>(tf.add<tf.Tensor2D>(tf.matMul(pooled, classifier.kernel), classifier.bias));
    const cat = logOdds(zeroShotCat(probs));
    const dog = logOdds(tf.sum<tf.Tensor1D>(tf.gather(probs, IMAGENET_DOG_CLASSES, 1), 1));
    return tf.concat([pooled, tf.stack([cat, dog], 1) as tf.Tensor2D], 1);
  });
}

function featureNet(net: ImagenetNet): FeatureNet {
  return {
    features: (images255) =>
      tf.tidy(() => {
        const [maps, probs] = net.run(images255);
        probs.dispose();
        return withCatDogLogOdds(maps.mean<tf.Tensor2D>([1, 2]), net.classifier);
      }),
  };
}

export const IMAGENET_MOBILENET_BACKBONE: BackboneSpec = {
  id: IMAGENET_BACKBONE_ID,
  cacheId: `${IMAGENET_BACKBONE_ID}@${IMAGENET_RECIPE}`,
  features: IMAGENET_FEATURES,
  pooledWidth: IMAGENET_POOLED,
  priorColumn: IMAGENET_POOLED,
  finish: async (pooled, n) => {
    const net = await loadImagenetNet();
    const f = tf.tidy(() => withCatDogLogOdds(tf.tensor2d(pooled, [n, IMAGENET_POOLED]), net.classifier));
    const out = (await f.data()) as Float32Array;
    f.dispose();
    return out;
  },
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
